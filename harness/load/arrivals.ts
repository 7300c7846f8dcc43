import type { Clock } from '../core/clock.js';
import { MAX_RUN_MS } from './limits.js';

/** The scheduler wakes at least this often (it sleeps less when the next arrival is sooner). */
export const TICK_MS = 2;
/** At most this many arrivals per wake-up; a longer backlog is caught up over the next wake-ups. */
export const MAX_BATCH = 5_000;

/** Arrival k, due at `intendedMs`, emitted at `nowMs` (the wake-up's clock reading; ≥ intendedMs). */
export type OnArrival = (k: number, intendedMs: number, nowMs: number) => void;

/**
 * A constant arrival rate, as wrk2 and k6's constant-arrival-rate: arrival k is due at
 * t0 + k * (1000 / ratePerSec), computed from k (no drift from summing intervals). Each wake-up
 * emits every arrival whose time has come, with its intended time, so a late wake-up or a stalled
 * event loop delays sends but never moves the times latency is measured from.
 * Resolves with the number of arrivals when `signal` aborts or `maxRunMs` has passed.
 */
export async function runArrivals(
  clock: Clock,
  ratePerSec: number,
  onArrival: OnArrival,
  signal: AbortSignal,
  maxRunMs = MAX_RUN_MS,
): Promise<number> {
  const intervalMs = 1000 / ratePerSec;
  const t0 = clock.now();
  const endMs = t0 + maxRunMs;
  let k = 0;
  while (!signal.aborted) {
    const now = Math.min(clock.now(), endMs);
    k = emitDue(k, t0, intervalMs, now, onArrival, signal);
    if (now >= endMs) break;
    const untilNext = t0 + k * intervalMs - clock.now();
    await clock.sleep(Math.min(TICK_MS, Math.max(1, untilNext)), signal);
  }
  return k;
}

/** Emits arrivals k.. due at or before `now` (at most MAX_BATCH, none once stopped); returns the next k. */
function emitDue(k: number, t0: number, intervalMs: number, now: number, onArrival: OnArrival, signal: AbortSignal): number {
  const last = k + MAX_BATCH;
  for (let t = t0 + k * intervalMs; t <= now && k < last && !signal.aborted; t = t0 + k * intervalMs) {
    onArrival(k, t, now);
    k++;
  }
  return k;
}
