import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../harness/core/clock.js';
import { MAX_BATCH, runArrivals } from '../../harness/load/arrivals.js';

/** A clock whose every sleep oversleeps by `lateMs`: a slow, stalled event loop. */
function lateClock(lateMs: number): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    wallMs: (ms: number) => ms,
    sleep: async (ms: number) => {
      await new Promise((r) => setImmediate(r));
      clock.t += ms + lateMs;
    },
  };
  return clock;
}

describe('constant arrival rate', () => {
  it('emits arrival k at exactly t0 + k * interval', async () => {
    const clock = new ManualClock();
    const intended: number[] = [];
    const stop = new AbortController();
    const done = runArrivals(clock, 100, (_k, t) => intended.push(t), stop.signal);
    await clock.advance(1_000);
    stop.abort();
    expect(await done).toBe(101);
    expect(intended).toEqual(Array.from({ length: 101 }, (_, k) => k * 10));
  });

  it('keeps intended times when wake-ups are late, emitting the backlog in batches', async () => {
    const clock = lateClock(250);
    const intended: number[] = [];
    const stop = new AbortController();
    const done = runArrivals(clock, 300, (_k, t) => {
      intended.push(t);
      if (intended.length >= 900) stop.abort();
    }, stop.signal);
    await done;
    expect(intended.length).toBeGreaterThanOrEqual(900);
    intended.forEach((t, k) => expect(t).toBeCloseTo((k * 1000) / 300, 9));
  });

  it('does not drift: arrival 100000 is due at exactly 100000 intervals', async () => {
    const clock = lateClock(5_000);
    let last = 0;
    const stop = new AbortController();
    await runArrivals(clock, 7, (k, t) => {
      last = t;
      if (k === 100_000) stop.abort();
    }, stop.signal);
    expect(last).toBe((100_000 * 1000) / 7);
  });

  it('bounds each batch, and the whole run', async () => {
    const clock = lateClock(10_000);
    const batches: number[] = [];
    let inBatch = 0;
    const origSleep = clock.sleep;
    clock.sleep = async (ms) => {
      batches.push(inBatch);
      inBatch = 0;
      await origSleep(ms);
    };
    const total = await runArrivals(clock, 1_000, () => inBatch++, new AbortController().signal, 30_000);
    expect(Math.max(...batches)).toBe(MAX_BATCH);
    expect(total).toBeLessThanOrEqual(30_001); // ended by maxRunMs, backlog or not
  });
});
