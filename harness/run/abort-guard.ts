import type { AbortPlan } from '../scenario/plan.js';

/**
 * "Abort when the failure ratio stays above X for Y seconds": fed one complete second at a time,
 * trips once `forMs` worth of consecutive seconds each had a failure ratio above the threshold.
 * A second with no outcome at all counts as failing (clients got no answer).
 */
export class AbortGuard {
  private run = 0;
  private lastSecond = -1;

  constructor(private readonly plan: AbortPlan) {}

  /** Returns true when the guard trips on this second. Seconds must come in order; repeats are ignored. */
  observe(second: number, outcomes: number, failures: number): boolean {
    if (second <= this.lastSecond) return false;
    const contiguous = second === this.lastSecond + 1;
    this.lastSecond = second;
    const failing = outcomes === 0 || failures / outcomes > this.plan.failureRatio;
    this.run = failing ? (contiguous ? this.run + 1 : 1) : 0;
    return this.run * 1000 >= this.plan.forMs;
  }

  describe(): string {
    return `failure ratio above ${(this.plan.failureRatio * 100).toFixed(1)}% for ${this.plan.forMs / 1000}s`;
  }
}
