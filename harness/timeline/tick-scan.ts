import { slowExceedsP95 } from './health.js';
import type { TickSeries } from './types.js';

/**
 * Boundary search on the fine ticks. A tick is bad when it holds a failure or a slow response.
 * A failure always marks a boundary (one failure makes a second unhealthy). A slow tick marks one
 * only when the one-second span starting (for an end) or ending (for a start) at it has a p95 over
 * the SLO, the same rule as for a whole second, so an isolated slow outlier (under 5%) next to a
 * disruption does not stretch it. The boundary found is then extended through the contiguous run
 * of bad ticks around it (empty ticks do not break the run), which makes the edge of a dense
 * slowdown exact instead of up to 5% of a second early.
 */
function at(a: Uint32Array, i: number): number {
  return a[i] ?? 0;
}

export function isBadTick(t: TickSeries, i: number): boolean {
  return at(t.failures, i) > 0 || at(t.slow, i) > 0;
}

function spanExceeds(t: TickSeries, from: number, to: number): boolean {
  let total = 0;
  let slow = 0;
  for (let i = Math.max(0, from); i < Math.min(t.total.length, to); i++) {
    total += at(t.total, i);
    slow += at(t.slow, i);
  }
  return slowExceedsP95(slow, total);
}

function endsDisruption(t: TickSeries, i: number, span: number): boolean {
  return at(t.failures, i) > 0 || (at(t.slow, i) > 0 && spanExceeds(t, i, i + span));
}

function startsDisruption(t: TickSeries, i: number, span: number): boolean {
  return at(t.failures, i) > 0 || (at(t.slow, i) > 0 && spanExceeds(t, i - span + 1, i + 1));
}

/** Extends from bad tick `i` one tick at a time (`step` ±1) while ticks are bad or empty. */
function extend(t: TickSeries, i: number, step: 1 | -1, limit: number): number {
  let last = i;
  for (let k = i + step; step > 0 ? k < limit : k >= limit; k += step) {
    if (isBadTick(t, k)) last = k;
    else if (at(t.total, k) > 0) break;
  }
  return last;
}

/** The last tick of a disruption ending within ticks [from, to), or null when none is bad. */
export function lastDisruptedTick(t: TickSeries, from: number, to: number, span: number): number | null {
  const top = Math.min(to, t.total.length) - 1;
  for (let i = top; i >= from; i--) {
    if (endsDisruption(t, i, span)) return extend(t, i, 1, Math.min(t.total.length, to + span));
  }
  // A slowdown that ends with less than 5% slow in the second after it: its last slow tick closes
  // a second that does exceed. An isolated outlier in healthy traffic closes none.
  for (let i = top; i >= from; i--) if (startsDisruption(t, i, span)) return i;
  return null;
}

/** The first tick of a disruption starting within ticks [from, to), or null when none is bad. */
export function firstDisruptedTick(t: TickSeries, from: number, to: number, span: number): number | null {
  const top = Math.min(to, t.total.length);
  for (let i = Math.max(0, from); i < top; i++) {
    if (startsDisruption(t, i, span)) return extend(t, i, -1, Math.max(0, from - span));
  }
  for (let i = Math.max(0, from); i < top; i++) if (endsDisruption(t, i, span)) return i;
  return null;
}

/** The first tick at or after `from` that saw any outcome. */
export function firstNonEmptyTick(t: TickSeries, from: number): number | null {
  for (let i = Math.max(0, from); i < t.total.length; i++) if (at(t.total, i) > 0) return i;
  return null;
}

/** The last tick before `before` and not before `floor` that saw any outcome. */
export function lastNonEmptyTick(t: TickSeries, before: number, floor: number): number | null {
  for (let i = Math.min(before, t.total.length) - 1; i >= Math.max(0, floor); i--) if (at(t.total, i) > 0) return i;
  return null;
}
