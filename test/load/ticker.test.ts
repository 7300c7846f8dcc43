import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock, tickerOf } from '../../harness/core/clock.js';

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe("the scheduler's ticker (one timer re-armed, one abort listener)", () => {
  it('sleeps in sequence, same or different durations, each at least its whole ms', async () => {
    const clock = new SystemClock();
    const stop = new AbortController();
    const ticker = tickerOf(clock, stop.signal);
    for (const ms of [5, 5, 5, 3, 3, 7]) {
      const t = clock.now();
      await ticker.sleep(ms);
      // Node's timers may fire up to 1 ms early against a sub-ms clock.
      expect(clock.now() - t).toBeGreaterThanOrEqual(ms - 1);
    }
    ticker.close();
  });

  it('an abort ends the pending sleep at once and every later one; close leaves no timer behind', async () => {
    const clock = new SystemClock();
    const stop = new AbortController();
    const before = timeouts();
    const ticker = tickerOf(clock, stop.signal);
    const t = clock.now();
    const sleeping = ticker.sleep(10_000);
    setTimeout(() => stop.abort(), 20);
    await sleeping;
    expect(clock.now() - t).toBeLessThan(1_000);
    await ticker.sleep(10_000); // aborted: at once
    expect(clock.now() - t).toBeLessThan(1_000);
    ticker.close();
    expect(timeouts()).toBe(before);
  });

  it('close ends a pending sleep too (the loop is leaving)', async () => {
    const ticker = tickerOf(new SystemClock(), new AbortController().signal);
    const sleeping = ticker.sleep(10_000);
    ticker.close();
    await expect(Promise.race([sleeping.then(() => 'woke'), new Promise((r) => setTimeout(() => r('still asleep'), 200))])).resolves.toBe('woke');
  });

  it("a clock without a ticker of its own (fake time) is slept through its own sleep", async () => {
    const clock = new ManualClock();
    const ticker = tickerOf(clock, new AbortController().signal);
    let woke = false;
    const sleeping = ticker.sleep(4).then(() => (woke = true));
    await clock.advance(3);
    expect(woke).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
  });
});
