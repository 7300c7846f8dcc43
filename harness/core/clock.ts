import { performance } from 'node:perf_hooks';

/**
 * The one source of time for scheduling, recording and the journal. `now()` is monotonic
 * milliseconds since the clock's origin (the start of the run); `wallMs(t)` maps such an
 * offset back to epoch milliseconds for humans and reports.
 */
export interface Clock {
  now(): number;
  wallMs(offsetMs: number): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. `restart()` moves t=0 to now: deployment happens before the run's zero. */
export class SystemClock implements Clock {
  private originPerf = performance.now();
  private originWall = Date.now();
  now(): number {
    return performance.now() - this.originPerf;
  }
  wallMs(offsetMs: number): number {
    return this.originWall + offsetMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleep(ms, signal);
  }
  /** Makes this instant t=0 and returns how far the origin moved, in ms. */
  restart(): number {
    const delta = this.now();
    this.originPerf += delta;
    this.originWall += delta;
    return delta;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A clock that only moves when told to: for scheduling and verdict tests in fake time. */
export class ManualClock implements Clock {
  private t = 0;
  private waiters: Array<{ at: number; resolve: () => void }> = [];
  constructor(private readonly originWall = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  wallMs(offsetMs: number): number {
    return this.originWall + offsetMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const waiter = { at: this.t + ms, resolve };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  /** Moves time forward, waking sleepers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.waiters.sort((a, b) => a.at - b.at);
      const next = this.waiters[0];
      if (!next || next.at > target) break;
      this.waiters.shift();
      this.t = next.at;
      next.resolve();
      await new Promise((r) => setImmediate(r));
    }
    this.t = target;
  }
}
