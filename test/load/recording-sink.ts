import { SystemClock } from '../../harness/core/clock.js';
import type { ResponseSink, TransportErrorKind } from '../../harness/load/types.js';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../harness/core/clock.js';

export interface Outcome {
  op: number;
  endMs: number;
  latencyMs: number;
  status: number;
  kind: TransportErrorKind | undefined;
}

/** Keeps every outcome, for assertions. */
export class RecordingSink implements ResponseSink {
  readonly responses: Outcome[] = [];
  readonly errors: Outcome[] = [];
  readonly drops: Array<{ op: number; atMs: number }> = [];

  response(op: number, endMs: number, latencyMs: number, status: number): void {
    this.responses.push({ op, endMs, latencyMs, status, kind: undefined });
  }

  transportError(op: number, endMs: number, latencyMs: number, kind: TransportErrorKind): void {
    this.errors.push({ op, endMs, latencyMs, status: 0, kind });
  }

  dropped(op: number, atMs: number): void {
    this.drops.push({ op, atMs });
  }

  errorKinds(): Record<string, number> {
    return countBy(this.errors.map((e) => e.kind ?? 'none'));
  }

  statuses(): Record<string, number> {
    return countBy(this.responses.map((r) => String(r.status)));
  }
}

export function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Real time for driver tests. */
export function realClock(): Clock {
  return new SystemClock();
}

/** The Task API preset's id pool, as a target's starting pools. */
export function taskIds(ids: readonly number[]): Map<string, string[]> {
  return new Map([['taskIds', ids.map(String)]]);
}
