import type { SecondSummary } from '../timeline/recorder.js';

/** What the last complete second of the run looked like, for live progress. */
export interface LiveSecond {
  /** The second's index on the run clock. */
  second: number;
  requestsPerSec: number;
  /** p95 of the second's outcomes (ms); null when there was none. */
  p95Ms: number | null;
  failures: number;
}

/** Where the live figures come from: the timeline recorder, read in place. */
export interface LiveSource {
  secondSummary(index: number): SecondSummary | undefined;
  totals(): { outcomes: number; failures: number };
}

/**
 * Live progress figures read from the recorder's own per-second windows once a tick, so the
 * per-response path records each outcome once and nothing more.
 */
export class LiveStats {
  constructor(private readonly source: LiveSource) {}

  /**
   * The last complete second before `nowMs − settleMs` (zeros when it saw nothing), or none before
   * the first. Outcomes are placed at their send time, so a second is only settled once its
   * slowest request could have timed out: the abort guard passes the load timeout as `settleMs`;
   * live progress passes 0 and shows the requests of the last second that have completed so far.
   */
  lastSecond(nowMs: number, settleMs = 0): LiveSecond | undefined {
    const second = Math.floor((nowMs - settleMs) / 1000) - 1;
    if (second < 0) return undefined;
    const s = this.source.secondSummary(second);
    return { second, requestsPerSec: s?.arrivals ?? 0, p95Ms: s?.p95Ms ?? null, failures: s?.failures ?? 0 };
  }

  totals(): { outcomes: number; failures: number } {
    return this.source.totals();
  }
}
