import type { SloPlan } from '../scenario/plan.js';
import { assertSameSlo, isIdleSecond, windowHealth, type SecondHealth } from './health.js';
import { firstNonEmptyTick, lastDisruptedTick } from './tick-scan.js';
import type { TimelineData } from './types.js';

export interface ClientRto {
  /** Fault → the instant clients last saw the disruption; 0 when they saw none; null when not recovered. */
  rtoMs: number | null;
  recovered: boolean;
  /** The recovery instant (run clock), null when not recovered. */
  recoveredAtMs: number | null;
  /** Start of the healthy run that counts as recovery. */
  healthyFromMs: number | null;
  /** False when the data ended healthy before `sustainMs` of health could be seen. */
  sustainConfirmed: boolean;
  reason?: string;
  /** The span fault → recovery coincides with a harness stall: possibly the harness's own. */
  harnessStall?: boolean;
}

/**
 * Client-side RTO of a fault at `faultAtMs`.
 * 1. Recovery needs a sustained healthy run: ⌈sustainMs / 1 s⌉ (at least 1) consecutive healthy
 *    seconds, searched from the first second that starts at or after the fault (the fault's own
 *    second also holds requests sent before it, which cannot vouch for recovery). A healthy run
 *    cut short by the end of the run is not a recovery: "not observed until the end".
 * 2. The recovery instant is the end of the last disrupted tick in [fault, start of that run)
 *    (see tick-scan; it may reach a little into the run when a slowdown ends there), or, after a
 *    silent second, the first tick that saw an outcome again; with neither, the fault instant.
 *    Ticks hold outcomes by their (intended) send time, so an outage that hangs until a timeout
 *    is timed like one that answers at once.
 * 3. RTO = recovery instant − faultAtMs; 0 when clients saw no disruption after the fault.
 */
export function clientRtoMs(data: TimelineData, faultAtMs: number, slo: SloPlan, sustainMs: number): ClientRto {
  assertSameSlo(data, slo.latencyP95Ms);
  const health = windowHealth(data);
  const w0 = Math.max(0, Math.floor(faultAtMs / data.windowMs));
  const w1 = Math.max(0, Math.ceil(faultAtMs / data.windowMs));
  const run = sustainedHealthyRun(health, w1, Math.max(1, Math.ceil(sustainMs / data.windowMs)));
  if (!run) return notRecovered(w1 >= health.length ? 'no outcome recorded after the fault' : health.slice(w1).every((h) => h === null) ? 'no arrival planned after the fault' : 'not recovered');
  if (!run.confirmed) return notRecovered(`recovery not observed until the end of the run (healthy for less than ${sustainMs} ms)`);
  const recoveredAtMs = recoveryInstant(data, faultAtMs, w0, run.start);
  return {
    rtoMs: recoveredAtMs - faultAtMs,
    recovered: true,
    recoveredAtMs,
    healthyFromMs: run.start * data.windowMs,
    sustainConfirmed: true,
  };
}

function notRecovered(reason: string): ClientRto {
  return { rtoMs: null, recovered: false, recoveredAtMs: null, healthyFromMs: null, sustainConfirmed: false, reason };
}

/**
 * The first run of `need` healthy seconds from `from`, or a shorter healthy run that ends the data.
 * Idle seconds (null) are skipped: they neither break a run nor count towards it, so the run
 * starts at its first healthy second and may span quiet seconds.
 */
export function sustainedHealthyRun(
  health: readonly SecondHealth[],
  from: number,
  need: number,
): { start: number; confirmed: boolean } | null {
  let length = 0;
  let start = -1;
  for (let i = from; i < health.length; i++) {
    const h = health[i];
    if (h === null) continue;
    if (!h) {
      length = 0;
      continue;
    }
    if (length === 0) start = i;
    length++;
    if (length >= need) return { start, confirmed: true };
  }
  return length > 0 ? { start, confirmed: false } : null;
}

function recoveryInstant(data: TimelineData, faultAtMs: number, w0: number, runStart: number): number {
  const { ticks } = data;
  const span = data.windowMs / ticks.tickMs;
  let at = faultAtMs;
  const last = lastDisruptedTick(ticks, Math.floor(faultAtMs / ticks.tickMs), runStart * span, span);
  if (last !== null) at = Math.max(at, (last + 1) * ticks.tickMs);
  for (let k = w0; k < runStart; k++) {
    // A silent second counts (clients got no answer), an idle one does not (none was asked for).
    if (data.seconds[k]?.count !== 0 || isIdleSecond(data, k)) continue;
    at = Math.max(at, silentSecondEndMs(data, k));
  }
  return at;
}

/**
 * Where clients may last have met a silent second `b`'s outage: the first tick that saw an outcome
 * again, but no later than the end of `b` when an idle second follows (the quiet shows nothing).
 */
export function silentSecondEndMs(data: TimelineData, b: number): number {
  const end = (b + 1) * data.windowMs;
  if (isIdleSecond(data, b + 1)) return end;
  const next = firstNonEmptyTick(data.ticks, (b + 1) * (data.windowMs / data.ticks.tickMs));
  return next === null ? end : next * data.ticks.tickMs;
}
