import type { ResponseSink, TransportErrorKind } from '../load/types.js';
import type { PhaseSpan } from '../scenario/plan.js';
import { addDrop, addOutcome, newBucket } from './bucket.js';
import type { Bucket } from './bucket.js';
import { SLOT_STATUS, statusSlot, toOutcomeCounts, transportSlot } from './counters.js';
import { compactHistogram, copyHistogram, maxTrackableMicros, toMicros } from './histogram.js';
import { RequestTrack, checkRequestSpecs } from './requests.js';
import type { RequestSpec } from './requests.js';
import { buildSnapshot } from './snapshot.js';
import { TickCounters } from './ticks.js';
import type { TimelineData } from './types.js';

export const WINDOW_MS = 1000;

export interface SecondSummary {
  /** Outcomes + dropped arrivals of the requests meant to be sent in that second, so far. */
  arrivals: number;
  /** 5xx, transport errors and drops among them. */
  failures: number;
  p95Ms: number | null;
}

export interface TimelineRecorderOptions {
  /** The plan's phase spans, in time order. */
  phases: readonly PhaseSpan[];
  /** A response slower than this is "slow" (fine ticks, window health). */
  sloLatencyMs: number;
  /** Fine tick length for disruption boundaries and RTO, a divisor of 1000; default 10 ms. */
  tickMs?: number;
  /** Latencies above this are recorded as this and counted as clamped. Use ≥ the load timeout. */
  maxLatencyMs: number;
  /**
   * The workload's requests, indexed by the `op` the load driver reports: each gets its own
   * figures per phase and per second, and its expected statuses (default: any status below 400).
   * Absent: one unnamed request, the totals only (every op expects a status below 400).
   */
  requests?: readonly RequestSpec[];
}

/**
 * Turns the load driver's outcomes into a timeline. Every outcome is attributed by the instant its
 * request was meant to be sent (`endMs − latencyMs`: the intended send time in the open model, the
 * actual send in the closed one) to a one-second window, to the phase span containing it (one
 * after the last span goes to the last span, one in a gap to the span before it) and to a fine
 * tick. So a request that met an outage is placed where it met it, whether the outage answered at
 * once (503, refused) or hung until the client's timeout.
 * Every outcome is timed: responses of any status and transport errors (a timeout at its elapsed
 * time). Dropped arrivals have no latency; they are counted as failures at their intended time.
 * Each named request of the workload (`requests`, indexed by op) gets the same figures per phase
 * and per second; its seconds are sealed into counters and percentiles once no outcome can reach
 * them, so its memory does not grow with the run beyond 32 bytes a second (see requests.ts).
 * Seconds older than the longest latency are compacted (see compactBefore): a run's timeline costs
 * about 14 KB a second at 5,000 requests a second (50 MB for an hour), plus the fine ticks (12 bytes
 * per 10 ms tick) and 32 bytes a second per named request.
 * The hot path allocates only when a new second starts, when an open second's histogram grows its
 * range (see histogram.ts: a few times a second at most), when the tick arrays double, or when an
 * outcome lands in a second already handed out by a snapshot (copy on write).
 */
export class TimelineRecorder implements ResponseSink {
  private readonly phases: readonly PhaseSpan[];
  private readonly sloLatencyMs: number;
  private readonly maxLatencyMs: number;
  private readonly maxUs: number;
  private readonly windows: Array<Bucket | undefined> = [];
  /** Seconds from the newest one back that outcomes can still reach; older ones are compacted. */
  private readonly openSeconds: number;
  /** Windows below this index are compacted (or were never opened). */
  private compactedBelow = 0;
  private readonly phaseBuckets: Bucket[];
  private readonly ticks: TickCounters;
  /** Indexed by op; an op without one is in the totals only. */
  private readonly tracks: RequestTrack[];
  private outcomes = 0;
  private failures = 0;
  private drops = 0;

  constructor(options: TimelineRecorderOptions) {
    const tickMs = options.tickMs ?? 10;
    if (!(options.maxLatencyMs > 0) || !(options.sloLatencyMs > 0)) {
      throw new RangeError('maxLatencyMs and sloLatencyMs must be positive');
    }
    // Ticks must tile the one-second windows exactly, or tick and window boundaries would disagree.
    if (!Number.isInteger(tickMs) || tickMs <= 0 || WINDOW_MS % tickMs !== 0) {
      throw new RangeError(`tickMs must be a whole divisor of ${WINDOW_MS}, got ${tickMs}`);
    }
    this.phases = [...options.phases];
    this.sloLatencyMs = options.sloLatencyMs;
    this.maxLatencyMs = options.maxLatencyMs;
    this.maxUs = maxTrackableMicros(options.maxLatencyMs);
    this.phaseBuckets = this.phases.map(() => newBucket(options.maxLatencyMs, 'phase'));
    this.ticks = new TickCounters(tickMs);
    checkRequestSpecs(options.requests ?? []);
    // A second stays open (a histogram) while outcomes can still reach it: up to the longest latency back, plus reporting skew.
    const ringSize = Math.ceil(options.maxLatencyMs / WINDOW_MS) + 3;
    this.openSeconds = ringSize;
    this.tracks = (options.requests ?? []).map((spec) => new RequestTrack(spec, this.phases.length, ringSize, options.maxLatencyMs));
  }

  response(op: number, endMs: number, latencyMs: number, status: number): void {
    const slot = statusSlot(status);
    const failed = slot === SLOT_STATUS + 4 ? 1 : 0;
    // A 5xx is a failure, counted as such; unexpected are the other statuses the request does not expect.
    const track = this.tracks[op];
    const unexpected = failed === 0 && !(track ? track.expects(status) : status < 400) ? 1 : 0;
    this.record(op, endMs, latencyMs, slot, failed, 1 - failed, unexpected);
  }

  transportError(op: number, endMs: number, latencyMs: number, kind: TransportErrorKind): void {
    this.record(op, endMs, latencyMs, transportSlot(kind), 1, 0, 0);
  }

  dropped(op: number, atMs: number): void {
    const t = runTime(atMs);
    addDrop(this.windowAt(t));
    const phase = this.phaseIndex(t);
    const bucket = this.phaseBuckets[phase];
    if (bucket) addDrop(bucket);
    this.tracks[op]?.drop(Math.floor(t / WINDOW_MS), phase);
    this.ticks.add(t, 1, 0);
    this.drops++;
    this.failures++;
  }

  private record(op: number, endMs: number, latencyMs: number, slot: number, failed: number, served: number, unexpected: number): void {
    const t = runTime(endMs - latencyMs);
    const raw = toMicros(latencyMs);
    const clamped = raw > this.maxUs ? 1 : 0;
    const us = clamped ? this.maxUs : raw;
    const slow = latencyMs > this.sloLatencyMs ? 1 : 0;
    addOutcome(this.windowAt(t), slot, us, slow, clamped, served, unexpected);
    const phase = this.phaseIndex(t);
    const bucket = this.phaseBuckets[phase];
    if (bucket) addOutcome(bucket, slot, us, slow, clamped, served, unexpected);
    this.tracks[op]?.outcome(Math.floor(t / WINDOW_MS), phase, slot, us, slow, clamped, unexpected);
    this.ticks.add(t, failed, slow);
    this.outcomes++;
    if (failed) this.failures++;
  }

  /**
   * The requests meant to be sent in one second, as recorded so far, read in place (for live
   * progress and the abort guard, once a second): arrivals, failures and the p95 of the outcomes.
   * Requests still in flight are not in it yet.
   */
  secondSummary(index: number): SecondSummary | undefined {
    const w = this.windows[index];
    if (!w) return undefined;
    const c = toOutcomeCounts(w.slots);
    const p95Ms = c.count > 0 ? w.histogram.getValueAtPercentile(95) / 1000 : null;
    return { arrivals: c.arrivals, failures: c.failures, p95Ms };
  }

  /** Arrivals (outcomes + drops) and failures since the run's zero. */
  totals(): { outcomes: number; failures: number } {
    return { outcomes: this.outcomes + this.drops, failures: this.failures };
  }

  /**
   * Everything recorded so far, as plain data that later recording does not change. The seconds
   * that requests still in flight may reach are copied; older ones are handed out as they are and
   * copied on write should a late outcome come.
   */
  snapshot(): TimelineData {
    return buildSnapshot({
      windows: this.windows,
      // Outcomes land in the second of their send, up to the longest latency back.
      openFrom: this.windows.length - 2 - Math.ceil(this.maxLatencyMs / WINDOW_MS),
      phases: this.phases,
      phaseBuckets: this.phaseBuckets,
      ticks: this.ticks.series(),
      sloLatencyMs: this.sloLatencyMs,
      maxLatencyMs: this.maxLatencyMs,
      windowMs: WINDOW_MS,
      requests: this.tracks,
    });
  }

  private windowAt(t: number): Bucket {
    const i = Math.floor(t / WINDOW_MS);
    let w = this.windows[i];
    if (!w) {
      w = newBucket(this.maxLatencyMs, 'window');
      this.windows[i] = w;
      this.compactBefore(i - this.openSeconds);
    } else if (w.shared) {
      w.histogram = copyHistogram(w.histogram, this.maxLatencyMs, 'window');
      w.shared = false;
    }
    return w;
  }

  /**
   * Compacts the windows below `limit` (see compactHistogram): no outcome can reach them short of a
   * latency beyond the maximum, and one that does finds them shared and copies them back to an
   * open second's histogram first. So a second costs about 14 KB instead of 24 KB (1–30 ms) once sealed.
   */
  private compactBefore(limit: number): void {
    for (let j = this.compactedBelow; j < limit; j++) {
      const w = this.windows[j];
      if (!w) continue;
      w.histogram = compactHistogram(w.histogram);
      w.shared = true;
    }
    if (limit > this.compactedBelow) this.compactedBelow = limit;
  }

  /** The index of the phase span an instant belongs to (see the class comment); 0 without spans. */
  private phaseIndex(t: number): number {
    for (let i = this.phases.length - 1; i > 0; i--) {
      if ((this.phases[i]?.startMs ?? 0) <= t) return i;
    }
    return 0;
  }
}

/** A negative or non-finite time (a clock bug) is attributed to the start of the run, never thrown. */
function runTime(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
