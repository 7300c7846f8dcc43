import type { Histogram } from 'hdr-histogram-js';
import { SLOT_CLAMPED, SLOT_DROPPED, SLOT_SLOW, SLOT_SUM_US, SLOT_UNEXPECTED, newCounterSlots } from './counters.js';
import { createLatencyHistogram } from './histogram.js';
import type { HistogramKind } from './histogram.js';

/** The mutable accumulator behind one window or one phase: counter slots and a µs histogram. */
export interface Bucket {
  slots: Float64Array;
  /** Every outcome's latency. */
  histogram: Histogram;
  /** Phases only: the latency of served requests (responses below 500). */
  served?: Histogram;
  /** The histogram was handed out by a snapshot: copy it before recording into it again. */
  shared: boolean;
}

export function newBucket(maxLatencyMs: number, kind: HistogramKind): Bucket {
  return {
    slots: newCounterSlots(),
    histogram: createLatencyHistogram(maxLatencyMs, kind),
    ...(kind === 'phase' ? { served: createLatencyHistogram(maxLatencyMs, kind) } : {}),
    shared: false,
  };
}

/**
 * Records one timed outcome (a response of any status or a transport error) into counter `slot`;
 * `us` is already within the histogram's range; `served` is 1 for a response below 500;
 * `unexpected` is 1 for a response whose status the request does not expect.
 */
export function addOutcome(b: Bucket, slot: number, us: number, slow: number, clamped: number, served: number, unexpected: number): void {
  b.histogram.recordValue(us);
  if (served && b.served) b.served.recordValue(us);
  b.slots[slot] = (b.slots[slot] ?? 0) + 1;
  b.slots[SLOT_SUM_US] = (b.slots[SLOT_SUM_US] ?? 0) + us;
  if (slow) b.slots[SLOT_SLOW] = (b.slots[SLOT_SLOW] ?? 0) + 1;
  if (clamped) b.slots[SLOT_CLAMPED] = (b.slots[SLOT_CLAMPED] ?? 0) + 1;
  if (unexpected) b.slots[SLOT_UNEXPECTED] = (b.slots[SLOT_UNEXPECTED] ?? 0) + 1;
}

/** Counts a dropped arrival: a failure with no latency. */
export function addDrop(b: Bucket): void {
  b.slots[SLOT_DROPPED] = (b.slots[SLOT_DROPPED] ?? 0) + 1;
}
