import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';

/**
 * The load generator's own lag, per run-clock second: how late its event loop ran
 * (perf_hooks' event-loop delay, sampled every `resolutionMs`) and how late requests were sent
 * against their intended times. A second whose delay or send lag exceeds the stall threshold
 * "stalled": latencies recorded then, and a disruption or RTO that overlaps it, may be the
 * harness's own doing rather than the service's.
 */
export interface LagSecond {
  /** Second i covers [i·1000, (i+1)·1000) of the run clock. */
  second: number;
  /** Worst and 99th-percentile lateness of the loop's sampling timer (ms, 0 when on time). */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** Sends in this second and their lag behind the intended send time (null when none). */
  sends: number;
  sendLagMaxMs: number | null;
  /** The top of the histogram bucket holding the 99th percentile (≤ 9 % high), at most the max. */
  sendLagP99Ms: number | null;
}

export interface LagSummary {
  thresholdMs: number;
  loopDelayMaxMs: number;
  sendLagMaxMs: number | null;
  stalledSeconds: number[];
}

export interface LagMonitorOptions {
  /** How often the loop's delay is sampled (perf_hooks resolution), ms; default 10. */
  resolutionMs?: number;
  /** A second stalled when its loop delay or send lag exceeds this, ms; default 50. */
  stallThresholdMs?: number;
}

export const DEFAULT_STALL_THRESHOLD_MS = 50;
export const DEFAULT_RESOLUTION_MS = 10;

/** Send lag buckets: [0, 0.1 ms) then 8 per doubling up to ~100 s; the last takes the rest. */
const LAG_FLOOR_MS = 0.1;
const PER_OCTAVE = 8;
const LAG_BUCKETS = 2 + 20 * PER_OCTAVE;
/** Seconds whose send lag is kept before the second's read-out; a wrap only follows a stall this long. */
const RING = 16;
const NS_PER_MS = 1e6;

type SendStats = Pick<LagSecond, 'sends' | 'sendLagMaxMs' | 'sendLagP99Ms'>;

interface Span {
  fromMs: number;
  toMs: number;
}

export class LagMonitor {
  readonly resolutionMs: number;
  readonly stallThresholdMs: number;
  private readonly done: LagSecond[] = [];
  /** The run-clock interval each stored second's loop delay was measured over (a stall lies within). */
  private readonly spans: Span[] = [];
  // Send lag per second, in a ring of preallocated slots: sendLag() writes without allocating.
  private readonly slotSecond = new Float64Array(RING).fill(-1);
  private readonly slotCount = new Float64Array(RING);
  private readonly slotMax = new Float64Array(RING);
  private readonly slotBuckets = new Uint32Array(RING * LAG_BUCKETS);
  /** Send lag of seconds whose slot was needed before they were read out (after a long stall). */
  private readonly early = new Map<number, SendStats>();
  private histogram: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The first second not yet read out, and where its measurement window began. */
  private openSecond = 0;
  private windowStartMs = 0;
  /** How late the last read-out ran into the open second: loop delay that second already had. */
  private carryMs = 0;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(
    private readonly clock: Clock,
    options: LagMonitorOptions = {},
  ) {
    this.resolutionMs = options.resolutionMs ?? DEFAULT_RESOLUTION_MS;
    this.stallThresholdMs = options.stallThresholdMs ?? DEFAULT_STALL_THRESHOLD_MS;
    if (!Number.isInteger(this.resolutionMs) || this.resolutionMs < 1) {
      throw new RangeError(`lag monitor resolutionMs: expected an integer >= 1, found ${this.resolutionMs}`);
    }
    if (!Number.isFinite(this.stallThresholdMs) || this.stallThresholdMs <= 0) {
      throw new RangeError(`lag monitor stallThresholdMs: expected a number of ms > 0, found ${this.stallThresholdMs}`);
    }
  }

  /** Starts measuring from now (start it after the run clock's t=0 is set). Once only. */
  start(): void {
    if (this.state !== 'new') throw new Error(`lag monitor already ${this.state}`);
    this.state = 'running';
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.histogram.enable();
    this.windowStartMs = this.clock.now();
    this.openSecond = Math.max(0, Math.floor(this.windowStartMs / 1000));
    this.schedule();
  }

  /**
   * One request sent at `actualMs` that was due at `intendedMs` (run-clock ms). On the open
   * model's hot path: constant time, no allocation. Ignored unless running.
   */
  sendLag(intendedMs: number, actualMs: number): void {
    if (this.state !== 'running') return;
    const second = Math.floor(actualMs / 1000);
    if (second < this.openSecond) return; // a second already read out (a clock that ran backwards)
    const slot = second % RING;
    if (this.slotSecond[slot] !== second) {
      // The slot still holds an unread second only after a stall of RING seconds: keep it.
      if ((this.slotSecond[slot] as number) >= 0) this.keepSendOnly(slot);
      this.slotSecond[slot] = second;
    }
    const lag = actualMs > intendedMs ? actualMs - intendedMs : 0;
    this.slotCount[slot] = (this.slotCount[slot] as number) + 1;
    if (lag > (this.slotMax[slot] as number)) this.slotMax[slot] = lag;
    const i = slot * LAG_BUCKETS + bucketOf(lag);
    this.slotBuckets[i] = (this.slotBuckets[i] as number) + 1;
  }

  /** Reads out the current (partial) second, stops sampling and releases the histogram and timer. */
  stop(): LagSecond[] {
    if (this.state === 'running') {
      this.readOut(true);
      clearTimeout(this.timer);
      this.timer = undefined;
      this.histogram?.disable();
      this.histogram = undefined;
    }
    this.state = 'stopped';
    return this.seconds();
  }

  /** Every second read out so far, in order. */
  seconds(): LagSecond[] {
    return this.done.map((s) => ({ ...s }));
  }

  isStalled(s: LagSecond, thresholdMs = this.stallThresholdMs): boolean {
    return s.loopDelayMaxMs > thresholdMs || (s.sendLagMaxMs ?? 0) > thresholdMs;
  }

  /** The seconds whose loop delay or send lag exceeded the threshold. */
  stalledSeconds(thresholdMs = this.stallThresholdMs): LagSecond[] {
    return this.seconds().filter((s) => this.isStalled(s, thresholdMs));
  }

  /**
   * Whether [startMs, endMs] (run clock) overlaps a stalled second, or the interval its loop
   * delay was measured over (a stall spilling past the second's end is read out late, so its
   * tail shows in that interval): such a disruption or RTO may be the harness's own.
   */
  overlapsStall(startMs: number, endMs: number, thresholdMs = this.stallThresholdMs): boolean {
    return this.done.some((s, i) => {
      if (!this.isStalled(s, thresholdMs)) return false;
      const span = this.spans[i] as Span;
      const from = Math.min(s.second * 1000, span.fromMs);
      const to = Math.max((s.second + 1) * 1000, span.toMs);
      return startMs < to && endMs >= from;
    });
  }

  summary(thresholdMs = this.stallThresholdMs): LagSummary {
    let loop = 0;
    let send: number | null = null;
    for (const s of this.done) {
      loop = Math.max(loop, s.loopDelayMaxMs);
      if (s.sendLagMaxMs !== null) send = Math.max(send ?? 0, s.sendLagMaxMs);
    }
    return { thresholdMs, loopDelayMaxMs: loop, sendLagMaxMs: send, stalledSeconds: this.stalledSeconds(thresholdMs).map((s) => s.second) };
  }

  /** A timer for the end of the open second (unref'd: it never holds the process open). */
  private schedule(): void {
    const waitMs = (this.openSecond + 1) * 1000 - this.clock.now();
    this.timer = setTimeout(() => {
      // Node's timers may fire up to a millisecond before the run clock says the second is over.
      if (this.clock.now() >= (this.openSecond + 1) * 1000) this.readOut(false);
      this.schedule();
    }, Math.max(1, Math.ceil(waitMs)));
    this.timer.unref();
  }

  /**
   * Closes every second that ended by now with the loop delay measured since the last read-out:
   * the loop cannot stall while this runs, so every stall it measured lies in that window. When
   * a stall kept this timer from firing for a few seconds, each second it covered gets it.
   * Resolution: a stall shows as the timer it delayed, so it is under-read by up to resolutionMs.
   */
  private readOut(final: boolean): void {
    const h = this.histogram as IntervalHistogram;
    const now = this.clock.now();
    const lastSecond = final ? Math.max(this.openSecond, Math.floor(now / 1000)) : Math.floor(now / 1000) - 1;
    const resolutionNs = this.resolutionMs * NS_PER_MS;
    // The histogram holds intervals between samples; the delay is what exceeds the resolution.
    const late = (ns: number): number => (h.count > 0 ? Math.max(0, ns - resolutionNs) / NS_PER_MS : 0);
    const loopDelayMaxMs = Math.max(late(h.max), this.carryMs);
    const loopDelayP99Ms = late(h.percentile(99));
    h.reset();
    const span = { fromMs: this.windowStartMs, toMs: now };
    for (let second = this.openSecond; second <= lastSecond; second += 1) {
      this.done.push({ second, loopDelayMaxMs, loopDelayP99Ms, ...this.takeSends(second) });
      this.spans.push(span);
    }
    this.openSecond = lastSecond + 1;
    this.windowStartMs = now;
    // This read-out was due at the start of the now open second: it ran that late into it, and
    // a stall that spilled over the boundary is that second's too (its samples went to this one).
    this.carryMs = Math.max(0, now - this.openSecond * 1000);
  }

  /** The send lag of `second`, emptying its slot. */
  private takeSends(second: number): SendStats {
    const slot = second % RING;
    const early = this.early.get(second);
    if (early) this.early.delete(second);
    if (this.slotSecond[slot] !== second) return early ?? { sends: 0, sendLagMaxMs: null, sendLagP99Ms: null };
    const stats = this.slotStats(slot);
    this.clearSlot(slot);
    return stats;
  }

  private slotStats(slot: number): SendStats {
    const count = this.slotCount[slot] as number;
    const max = this.slotMax[slot] as number;
    if (count === 0) return { sends: 0, sendLagMaxMs: null, sendLagP99Ms: null };
    const rank = Math.ceil(count * 0.99);
    let seen = 0;
    let b = 0;
    for (; b < LAG_BUCKETS; b += 1) {
      seen += this.slotBuckets[slot * LAG_BUCKETS + b] as number;
      if (seen >= rank) break;
    }
    return { sends: count, sendLagMaxMs: max, sendLagP99Ms: Math.min(max, bucketTop(b)) };
  }

  private clearSlot(slot: number): void {
    this.slotSecond[slot] = -1;
    this.slotCount[slot] = 0;
    this.slotMax[slot] = 0;
    this.slotBuckets.fill(0, slot * LAG_BUCKETS, (slot + 1) * LAG_BUCKETS);
  }

  private keepSendOnly(slot: number): void {
    this.early.set(this.slotSecond[slot] as number, this.slotStats(slot));
    this.clearSlot(slot);
  }
}

function bucketOf(lagMs: number): number {
  if (lagMs < LAG_FLOOR_MS) return 0;
  return Math.min(LAG_BUCKETS - 1, 1 + Math.floor(Math.log2(lagMs / LAG_FLOOR_MS) * PER_OCTAVE));
}

/** The upper edge of bucket `b`, ms. */
function bucketTop(b: number): number {
  return b === 0 ? LAG_FLOOR_MS : LAG_FLOOR_MS * 2 ** (b / PER_OCTAVE);
}
