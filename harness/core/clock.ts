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
  /** Sleeps of one loop in sequence, cheaper per sleep than `sleep` (optional: `tickerOf` falls back to `sleep`). */
  ticker?(signal: AbortSignal): Ticker;
}

/**
 * One loop's sleeps, one at a time: `sleep` resolves after `ms`, or at once when the signal aborts
 * (then and after). `close` when the loop ends.
 */
export interface Ticker {
  sleep(ms: number): Promise<void>;
  close(): void;
}

/** The clock's own ticker, or one made of `clock.sleep`. */
export function tickerOf(clock: Clock, signal: AbortSignal): Ticker {
  return clock.ticker?.(signal) ?? { sleep: (ms) => clock.sleep(ms, signal), close: () => undefined };
}

/**
 * A ticker on Node's timers: one abort listener for the loop's life and one timer, re-armed
 * (`refresh`) while the whole-ms duration stays the same. A scheduler waking 500 to 1,000 times a
 * second spends less per wake-up than with a new timer, promise listener and abort listener each time.
 */
class TimerTicker implements Ticker {
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private wake: (() => void) | undefined;
  private readonly fire = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.fire, { once: true });
  }

  sleep(ms: number): Promise<void> {
    if (this.signal.aborted || ms <= 0) return Promise.resolve();
    // Node's timers count whole ms (a fractional duration is truncated, below 1 is 1).
    const whole = Math.max(1, Math.trunc(ms));
    return new Promise((resolve) => {
      this.wake = resolve;
      if (this.timer !== undefined && this.timerMs === whole) this.timer.refresh();
      else {
        clearTimeout(this.timer);
        this.timer = setTimeout(this.fire, whole);
        this.timerMs = whole;
      }
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.fire);
    this.fire();
  }
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
  ticker(signal: AbortSignal): Ticker {
    return new TimerTicker(signal);
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
