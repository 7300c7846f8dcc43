import type { TickSeries } from './types.js';

/**
 * Fine-grained counters per tick of `tickMs`, in typed arrays that double when outgrown, so that
 * recording allocates only on growth. These make the disruption boundaries and the client RTO
 * precise to a tick rather than to a one-second window.
 */
export class TickCounters {
  private total: Uint32Array;
  private failures: Uint32Array;
  private slow: Uint32Array;
  private used = 0;

  constructor(readonly tickMs: number, initialTicks = 8192) {
    this.total = new Uint32Array(initialTicks);
    this.failures = new Uint32Array(initialTicks);
    this.slow = new Uint32Array(initialTicks);
  }

  /** Counts one outcome at `endMs` (≥ 0); `failed` and `slow` are 0 or 1. */
  add(endMs: number, failed: number, slow: number): void {
    const i = Math.floor(endMs / this.tickMs);
    if (i >= this.total.length) this.grow(i + 1);
    this.total[i] = (this.total[i] ?? 0) + 1;
    if (failed) this.failures[i] = (this.failures[i] ?? 0) + 1;
    if (slow) this.slow[i] = (this.slow[i] ?? 0) + 1;
    if (i >= this.used) this.used = i + 1;
  }

  /** A copy of the ticks up to the last one that saw an outcome. */
  series(): TickSeries {
    return {
      tickMs: this.tickMs,
      total: this.total.slice(0, this.used),
      failures: this.failures.slice(0, this.used),
      slow: this.slow.slice(0, this.used),
    };
  }

  private grow(needed: number): void {
    let size = Math.max(1, this.total.length) * 2;
    while (size < needed) size *= 2;
    this.total = grown(this.total, size);
    this.failures = grown(this.failures, size);
    this.slow = grown(this.slow, size);
  }
}

function grown(a: Uint32Array, size: number): Uint32Array {
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}
