import type { ResponseSink, TransportErrorKind } from '../load/types.js';

/** What the last complete second of the run looked like, for live progress. */
export interface LiveSecond {
  /** The second's index on the run clock. */
  second: number;
  requestsPerSec: number;
  /** p95 of the second's responses (ms); null when there was none. */
  p95Ms: number | null;
  failures: number;
}

interface SecondCounts {
  index: number;
  latenciesMs: number[];
  outcomes: number;
  failures: number;
}

/**
 * A pass-through sink in front of the timeline recorder that keeps only the current and the
 * previous second, so live progress costs O(1) per tick however long the run (the recorder's
 * snapshot would summarise every second of the run on each tick).
 */
export class LiveStats implements ResponseSink {
  private current: SecondCounts = { index: 0, latenciesMs: [], outcomes: 0, failures: 0 };
  private previous: SecondCounts | undefined;
  private totalOutcomes = 0;
  private totalFailures = 0;

  constructor(private readonly next: ResponseSink) {}

  response(op: number, endMs: number, latencyMs: number, status: number): void {
    this.next.response(op, endMs, latencyMs, status);
    const s = this.secondAt(endMs);
    s.latenciesMs.push(latencyMs);
    this.count(s);
    if (status >= 500) this.fail(s);
  }

  transportError(op: number, endMs: number, latencyMs: number, kind: TransportErrorKind): void {
    this.next.transportError(op, endMs, latencyMs, kind);
    const s = this.secondAt(endMs);
    this.count(s);
    this.fail(s);
  }

  dropped(op: number, atMs: number): void {
    this.next.dropped?.(op, atMs);
  }

  /** The last complete second before `nowMs`, if it saw anything. */
  lastSecond(nowMs: number): LiveSecond | undefined {
    const want = Math.floor(nowMs / 1000) - 1;
    const s = this.current.index === want ? this.current : this.previous?.index === want ? this.previous : undefined;
    if (!s) return want >= 0 ? { second: want, requestsPerSec: 0, p95Ms: null, failures: 0 } : undefined;
    const sorted = Float64Array.from(s.latenciesMs).sort();
    const p95Ms = sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? null) : null;
    return { second: want, requestsPerSec: s.outcomes, p95Ms, failures: s.failures };
  }

  totals(): { outcomes: number; failures: number } {
    return { outcomes: this.totalOutcomes, failures: this.totalFailures };
  }

  private count(s: SecondCounts): void {
    s.outcomes++;
    this.totalOutcomes++;
  }

  private fail(s: SecondCounts): void {
    s.failures++;
    this.totalFailures++;
  }

  private secondAt(endMs: number): SecondCounts {
    const index = Math.max(0, Math.floor(endMs / 1000));
    if (index > this.current.index) {
      this.previous = this.current;
      this.current = { index, latenciesMs: [], outcomes: 0, failures: 0 };
    }
    // A late outcome for the previous second still counts there; older ones are too late to show.
    return index === this.current.index ? this.current : index === this.previous?.index ? this.previous : this.current;
  }
}
