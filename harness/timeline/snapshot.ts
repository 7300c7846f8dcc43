import type { Histogram } from 'hdr-histogram-js';
import type { PhaseSpan } from '../scenario/plan.js';
import type { Bucket } from './bucket.js';
import { SLOT_SUM_US, newCounterSlots, toOutcomeCounts } from './counters.js';
import { copyHistogram, createLatencyHistogram, summarize } from './histogram.js';
import type { RequestTrack } from './requests.js';
import type { PhaseStats, SecondWindow, TickSeries, TimelineData } from './types.js';

export interface SnapshotInput {
  windows: ReadonlyArray<Bucket | undefined>;
  /** Windows from this index on may still be recorded into: their histograms are copied. */
  openFrom: number;
  phases: readonly PhaseSpan[];
  phaseBuckets: readonly Bucket[];
  ticks: TickSeries;
  sloLatencyMs: number;
  maxLatencyMs: number;
  windowMs: number;
  /** The workload's named requests, in op order. */
  requests: readonly RequestTrack[];
}

/** The span containing `t`, or undefined in a gap or outside the run. */
export function spanAt(phases: readonly PhaseSpan[], t: number): PhaseSpan | undefined {
  return phases.find((p) => p.startMs <= t && t < p.endMs);
}

/** Plain data: recording may go on without changing a snapshot already taken. */
export function buildSnapshot(input: SnapshotInput): TimelineData {
  const seconds = secondsOf(input);
  return {
    windowMs: input.windowMs,
    sloLatencyMs: input.sloLatencyMs,
    maxLatencyMs: input.maxLatencyMs,
    seconds,
    phases: input.phases.map((span, i) => phaseStats(input, span, i)),
    ticks: input.ticks,
    requests: input.requests.map((r) => r.snapshot(seconds.length)),
  };
}

function secondsOf(input: SnapshotInput): SecondWindow[] {
  const seconds: SecondWindow[] = [];
  // Every second up to the last that saw an outcome; a second with none in between is kept (empty).
  for (let i = 0; i < input.windows.length; i++) {
    const startMs = i * input.windowMs;
    const bucket = input.windows[i];
    const histogram = bucket ? windowHistogram(bucket, i >= input.openFrom, input.maxLatencyMs) : createLatencyHistogram(input.maxLatencyMs, 'window');
    const span = spanAt(input.phases, startMs);
    seconds.push({
      index: i,
      startMs,
      endMs: startMs + input.windowMs,
      phase: span?.phase ?? null,
      ...(span?.fault !== undefined ? { fault: span.fault } : {}),
      ...toOutcomeCounts(bucket?.slots ?? newCounterSlots()),
      ...summarize(histogram, bucket?.slots[SLOT_SUM_US]),
      histogram,
    });
  }
  return seconds;
}

/** Copying every second's histogram would make snapshots O(run); sealed ones are shared, copied on write. */
function windowHistogram(bucket: Bucket, open: boolean, maxLatencyMs: number): Histogram {
  if (open) return copyHistogram(bucket.histogram, maxLatencyMs, 'window');
  bucket.shared = true;
  return bucket.histogram;
}

function phaseStats(input: SnapshotInput, span: PhaseSpan, index: number): PhaseStats {
  const bucket = input.phaseBuckets[index];
  const copy = (h: Histogram | undefined): Histogram =>
    h ? copyHistogram(h, input.maxLatencyMs, 'phase') : createLatencyHistogram(input.maxLatencyMs, 'phase');
  const histogram = copy(bucket?.histogram);
  const servedHistogram = copy(bucket?.served);
  return {
    index,
    span: { ...span },
    ...toOutcomeCounts(bucket?.slots ?? newCounterSlots()),
    ...summarize(histogram, bucket?.slots[SLOT_SUM_US]),
    histogram,
    served: summarize(servedHistogram),
    servedHistogram,
  };
}
