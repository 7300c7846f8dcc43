import { tickerOf, type Clock } from '../core/clock.js';
import type { LoadPlan, RampStage } from './types.js';
import { MAX_RUN_MS } from './limits.js';

/** Below 2,000/s the scheduler wakes at least this often (sooner when the next arrival is sooner). */
export const TICK_MS = 2;
/** At most this many arrivals per wake-up; a longer backlog is caught up over the next wake-ups. */
export const MAX_BATCH = 5_000;
/**
 * Arrivals closer together than this (2,000/s and more) are sent in batches on a BATCH_MS grid:
 * every wake-up costs the process tens of µs of CPU (a timer armed, the thread put to sleep and
 * woken: ~30 µs on a virtual machine), which at 5,000/s with a wake-up a millisecond was a quarter
 * of the generator's CPU. The batches are the plan (fixed from k, never from the server's answers):
 * a dense arrival's intended send time is its due time rounded up to the grid, and latency is
 * measured from it, so a late wake-up still counts in full and the batching itself does not.
 */
export const DENSE_INTERVAL_MS = 0.5;
/** The grid of batched (dense) arrivals, ms from the schedule's start. */
export const BATCH_MS = 4;

/** Options of a schedule's run. */
export interface ScheduleOptions {
  /** The run ends this long after it started, arrivals due or not. */
  maxRunMs?: number;
  /** Called at every wake-up after its arrivals (at most BATCH_MS apart, plus the event loop's delay). */
  onWake?: () => void;
}

/** Arrival k, due at `intendedMs`, emitted at `nowMs` (the wake-up's clock reading; ≥ intendedMs). */
export type OnArrival = (k: number, intendedMs: number, nowMs: number) => void;

/**
 * When arrival k is due, in ms after the schedule's start; Infinity when there is no arrival k.
 * Called with k = 0, 1, 2… in order, once each.
 */
type DueAt = (k: number) => number;

/**
 * A constant arrival rate, as wrk2 and k6's constant-arrival-rate: arrival k is due at
 * t0 + k * (1000 / ratePerSec), computed from k (no drift from summing intervals); at 2,000/s and
 * more, sent in batches on the BATCH_MS grid (its intended time rounded up to the grid). Each
 * wake-up emits every arrival whose intended time has come, with that time, so a late wake-up or a
 * stalled event loop delays sends but never moves the times latency is measured from.
 * Resolves with the number of arrivals when `signal` aborts or `maxRunMs` has passed.
 */
export function runArrivals(
  clock: Clock,
  ratePerSec: number,
  onArrival: OnArrival,
  signal: AbortSignal,
  options: ScheduleOptions = {},
): Promise<number> {
  const intervalMs = 1000 / ratePerSec;
  return runSchedule(clock, (k) => k * intervalMs, onArrival, signal, options);
}

/**
 * A ramping arrival rate, as k6's ramping-arrival-rate (timeUnit 1s): the rate starts at
 * `startPerSec` and moves linearly to each stage's `toPerSec` over its `overMs` (0: a jump).
 * Arrival k is due when the expected arrivals, the integral of the rate from the start, reach
 * k + 1 (k6 counts the same way: the first arrival once a whole one is due, so a stage at rate 0
 * sends nothing); each time is solved from k and the stage's closed form, so nothing drifts.
 * As in k6 the schedule ends with the last stage: resolves then, or earlier as `runArrivals`.
 */
export function runRampingArrivals(
  clock: Clock,
  ramp: { startPerSec: number; stages: readonly RampStage[] },
  onArrival: OnArrival,
  signal: AbortSignal,
  options: ScheduleOptions = {},
): Promise<number> {
  const curve = new RampCurve(ramp.startPerSec, ramp.stages);
  return runSchedule(clock, (k) => curve.timeOf(k + 1), onArrival, signal, options);
}

/**
 * Whether the load plans an arrival between `fromMs` and `toMs` (inclusive) of its own clock:
 * always for the closed and open models; for a ramp, not where its rate is 0 or after its last stage.
 */
export function plansArrivalBetween(load: LoadPlan, fromMs: number, toMs: number): boolean {
  if (load.model !== 'ramping') return true;
  const curve = new RampCurve(load.startRatePerSec, load.stages);
  // The first arrival due at or after fromMs (where the count rests on a whole number, that one was due earlier).
  let n = Math.max(1, Math.ceil(curve.expected(fromMs)));
  if (curve.timeOf(n) < fromMs) n++;
  return curve.timeOf(n) <= toMs;
}

/**
 * The run-clock seconds [0, seconds) in which the load plans no arrival at all: a ramp's seconds at
 * rate 0 or after its last stage; none for the closed and open models. The load's own clock starts
 * `loadStartMs` after the run's zero; a second counts as idle only when no arrival is planned in it
 * even with `marginMs` taken off both its edges (the load's zero is known to a few ms), the same
 * test as the abort guard's. Sorted ascending.
 */
export function idleSeconds(load: LoadPlan, loadStartMs: number, seconds: number, marginMs = 20): number[] {
  if (load.model !== 'ramping') return [];
  const idle: number[] = [];
  for (let i = 0; i < seconds; i++) {
    if (!plansArrivalBetween(load, i * 1000 - loadStartMs + marginMs, (i + 1) * 1000 - loadStartMs - marginMs)) idle.push(i);
  }
  return idle;
}

async function runSchedule(clock: Clock, dueAt: DueAt, onArrival: OnArrival, signal: AbortSignal, options: ScheduleOptions): Promise<number> {
  const t0 = clock.now();
  const endMs = t0 + (options.maxRunMs ?? MAX_RUN_MS);
  const onWake = options.onWake;
  const ticker = tickerOf(clock, signal);
  let k = 0;
  // Arrival k's intended send time: its due time, or for a dense arrival (closer than
  // DENSE_INTERVAL_MS to the one before) that rounded up to the batch grid; never before the last one's.
  let lastDue = Number.NEGATIVE_INFINITY;
  let lastIntended = Number.NEGATIVE_INFINITY;
  let batched = false;
  const intendedOf = (due: number): number => {
    batched = due - lastDue < DENSE_INTERVAL_MS;
    return Math.max(batched ? t0 + Math.ceil((due - t0) / BATCH_MS) * BATCH_MS : due, lastIntended);
  };
  let due = t0 + dueAt(0);
  let next = intendedOf(due);
  try {
    while (!signal.aborted) {
      const now = Math.min(clock.now(), endMs);
      // Emit arrivals whose intended time is at or before `now` (at most MAX_BATCH, none once stopped).
      for (const last = k + MAX_BATCH; next <= now && k < last && !signal.aborted; ) {
        onArrival(k, next, now);
        k++;
        lastDue = due;
        lastIntended = next;
        due = t0 + dueAt(k);
        next = intendedOf(due);
      }
      onWake?.();
      if (now >= endMs || next === Infinity) break;
      // A batch: woken at its grid point (Node's timers count whole ms; one that fires a little
      // early finds nothing due and waits 1 ms more). Otherwise at least every TICK_MS.
      await ticker.sleep(batched ? Math.min(BATCH_MS, Math.max(1, Math.ceil(next - clock.now()))) : Math.min(TICK_MS, Math.max(1, next - clock.now())));
    }
  } finally {
    ticker.close();
  }
  return k;
}

/** One stage of a ramp, with what came before it. Rates per second, times in ms. */
interface Segment {
  startMs: number;
  durationMs: number;
  from: number;
  to: number;
  /** Expected arrivals before the stage, and by its end. */
  before: number;
  after: number;
}

/**
 * The rate of a ramp, piecewise linear, and its integral N(t) (expected arrivals by t ms), which is
 * piecewise quadratic: in a stage of d ms from rate a to b (per second), τ ms in,
 * N = before + (a·τ + (b − a)·τ² / (2d)) / 1000.
 */
export class RampCurve {
  private readonly segments: Segment[] = [];
  /** Stage of the last `timeOf`: arrivals are asked for in order, so the search only moves forward. */
  private cursor = 0;
  /** Expected arrivals over the whole ramp. */
  readonly total: number;
  readonly durationMs: number;
  /** The highest rate of the ramp, per second. */
  readonly peakPerSec: number;

  constructor(startPerSec: number, stages: readonly RampStage[]) {
    let startMs = 0;
    let before = 0;
    let from = startPerSec;
    let peak = startPerSec;
    for (const s of stages) {
      // Multiplied before divided: whole rates and durations give whole counts, exactly.
      const after = before + ((from + s.toPerSec) * s.overMs) / 2000;
      this.segments.push({ startMs, durationMs: s.overMs, from, to: s.toPerSec, before, after });
      startMs += s.overMs;
      before = after;
      from = s.toPerSec;
      peak = Math.max(peak, s.toPerSec);
    }
    this.total = before;
    this.durationMs = startMs;
    this.peakPerSec = peak;
  }

  /** Expected arrivals by `tMs` after the start (the whole ramp's after its end). */
  expected(tMs: number): number {
    if (tMs <= 0) return 0;
    for (const s of this.segments) {
      if (tMs >= s.startMs + s.durationMs) continue;
      const tau = tMs - s.startMs;
      return s.before + (s.from * tau + ((s.to - s.from) * tau * tau) / (2 * s.durationMs)) / 1000;
    }
    return this.total;
  }

  /**
   * The time (ms after the start) at which the expected arrivals reach n > 0; Infinity when the
   * ramp never does. Calls must come with n increasing.
   */
  timeOf(n: number): number {
    const segments = this.segments;
    while (this.cursor < segments.length && (segments[this.cursor] as Segment).after < n) this.cursor++;
    const s = segments[this.cursor];
    if (!s) return Infinity;
    const d = s.durationMs;
    // Solved from the nearer end of the stage: near a rate of 0 the time is sensitive to rounding
    // in the count, and counted from that end the count is small and exact (0 at a ramp's end).
    const fromStart = n - s.before;
    const fromEnd = s.after - n;
    if (fromStart <= fromEnd) return s.startMs + Math.min(d, rootOf(s.from, s.to, d, fromStart));
    return s.startMs + d - Math.min(d, rootOf(s.to, s.from, d, fromEnd));
  }
}

/**
 * The τ ≥ 0 (ms) at which a rate going linearly from a to b (per second) over d ms has brought m
 * arrivals: the root of a·τ + (b − a)·τ²/(2d) = 1000·m, in the form without cancellation,
 * 2·1000m / (a + √(a² + 2(b − a)·1000m/d)).
 */
function rootOf(a: number, b: number, d: number, m: number): number {
  if (m <= 0) return 0;
  const work = 1000 * m;
  if (a === b) return work / a;
  // Rounding may leave a hair below 0 where the exact value is 0 (where the rate reaches 0).
  return (2 * work) / (a + Math.sqrt(Math.max(0, a * a + (2 * (b - a) * work) / d)));
}
