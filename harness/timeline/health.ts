import type { SecondWindow, TimelineData } from './types.js';

/**
 * Health as clients see it, of the requests meant to be sent in a second. It is healthy when it
 * had at least one outcome, no failure (5xx, transport error or dropped arrival) and a p95 of its
 * outcomes within the SLO. A second with no outcome at all is unhealthy: the clients were
 * loading and got no answer. Except an idle second (TimelineData.idle: the load planned no
 * arrival in it, as a ramp at rate 0) with no arrival: it proves nothing either way, so it is
 * neither healthy nor unhealthy (null) and is skipped: it neither breaks nor extends a healthy
 * run, is no disruption, and neither ends nor splits one (an outage on both sides of a quiet
 * second is one disruption, since nothing showed it had ended).
 *
 * "p95 within the SLO" is decided exactly from the count of responses slower than the SLO, not
 * from the histogram (whose values are rounded up by up to 0.1%): with n responses, the p95 (the
 * value of rank ⌈0.95·n⌉) exceeds the SLO exactly when more than n − ⌈0.95·n⌉ responses do.
 */
export function slowExceedsP95(slow: number, total: number): boolean {
  if (total <= 0) return false;
  const rank = Math.ceil((95 * total) / 100);
  return slow > total - rank;
}

export function isHealthyWindow(w: SecondWindow): boolean {
  return w.failures === 0 && w.count > 0 && !slowExceedsP95(w.slow, w.count);
}

/** A second's health: true healthy, false unhealthy, null idle (see above). */
export type SecondHealth = boolean | null;

/**
 * Health of the seconds that are judged: those starting before the end of the last phase (after
 * it the load sends nothing; outcomes are placed by their send time).
 */
export function windowHealth(data: TimelineData): SecondHealth[] {
  const idle = new Set(data.idle ?? []);
  // A second meant to be idle that did see an arrival (the load's zero is known to a few ms) is judged.
  return data.seconds.slice(0, judgedWindowCount(data)).map((w, i) => (idle.has(i) && w.arrivals === 0 ? null : isHealthyWindow(w)));
}

/** Whether second `i` is idle and saw no arrival (skipped by every health rule). */
export function isIdleSecond(data: TimelineData, i: number): boolean {
  return data.idle !== undefined && data.idle.includes(i) && (data.seconds[i]?.arrivals ?? 0) === 0;
}

export function judgedWindowCount(data: TimelineData): number {
  if (data.phases.length === 0) return data.seconds.length;
  const runEndMs = Math.max(...data.phases.map((p) => p.span.endMs));
  return Math.min(data.seconds.length, Math.ceil(runEndMs / data.windowMs));
}

/**
 * The SLO passed to the analysis must be the one the recorder counted "slow" responses against;
 * a different one would silently judge with the wrong line.
 */
export function assertSameSlo(data: TimelineData, sloLatencyMs: number): void {
  if (data.sloLatencyMs !== sloLatencyMs) {
    throw new RangeError(`the timeline was recorded against an SLO of ${data.sloLatencyMs} ms, not ${sloLatencyMs} ms`);
  }
}

/** The end of the warm-up phase(s), 0 when the plan has none. */
export function warmupEndMs(data: TimelineData): number {
  return data.phases.reduce((end, p) => (p.span.phase === 'warmup' ? Math.max(end, p.span.endMs) : end), 0);
}
