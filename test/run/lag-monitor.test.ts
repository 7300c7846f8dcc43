import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { LagMonitor } from '../../harness/run/lag-monitor.js';

/** The harness's own lag, measured on this test's real event loop with stalls of known length. */

/** Keeps the event loop busy for `ms` (nothing else runs meanwhile); returns when it ran, run clock. */
function block(clock: SystemClock, ms: number): { fromMs: number; toMs: number } {
  const fromMs = clock.now();
  while (clock.now() - fromMs < ms);
  return { fromMs, toMs: clock.now() };
}

/** Sleeps until the run clock reads `atMs` (a timer, so the loop stays free). */
async function until(clock: SystemClock, atMs: number): Promise<void> {
  while (clock.now() < atMs) await clock.sleep(Math.max(1, atMs - clock.now()));
}

describe('lag monitor', () => {
  it('marks the seconds a stalled loop covered, with the stall measured, and leaves quiet seconds alone', async () => {
    const clock = new SystemClock();
    // On a 2-core machine shared with other work a quiet loop can lag ~50 ms now and then (the
    // process waits for a core): the threshold here is 150 ms, the stalls 300 and 800 ms.
    const monitor = new LagMonitor(clock, { resolutionMs: 10, stallThresholdMs: 150 });
    monitor.start();
    // 300 ms inside second 1; 800 ms from second 3 into second 4 (the read-out of 3 runs 300 ms late).
    await until(clock, 1250);
    const short = block(clock, 300);
    await until(clock, 3500);
    const long = block(clock, 800);
    await until(clock, 5500);
    const seconds = monitor.stop();

    // Wherever the busy loops really ran (a loaded machine may have delayed the timers above).
    const second = (ms: number): number => Math.floor(ms / 1000);
    const stalled = [...new Set([short.fromMs, short.toMs, long.fromMs, long.toMs].map(second))].sort((a, b) => a - b);
    expect(monitor.stalledSeconds().map((s) => s.second)).toEqual(stalled);
    expect(seconds.map((s) => s.second)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const s of seconds) {
      if (!stalled.includes(s.second)) expect(s.loopDelayMaxMs).toBeLessThan(150);
    }
    // The truth within the sampling resolution (10 ms) below and scheduling noise above.
    const at = (n: number): number => seconds.find((s) => s.second === n)?.loopDelayMaxMs ?? Number.NaN;
    expect(at(second(short.fromMs))).toBeGreaterThanOrEqual(300 - 11);
    expect(at(second(short.fromMs))).toBeLessThan(300 + 60);
    expect(at(second(long.fromMs))).toBeGreaterThanOrEqual(800 - 11);
    expect(at(second(long.fromMs))).toBeLessThan(800 + 60);
    // The part of the long stall past the boundary is the next second's.
    const spill = long.toMs - second(long.toMs) * 1000;
    expect(at(second(long.toMs))).toBeGreaterThanOrEqual(spill - 11);
    expect(at(second(long.toMs))).toBeLessThan(spill + 60);
    expect(monitor.summary()).toMatchObject({ thresholdMs: 150, stalledSeconds: stalled });
    expect(monitor.summary().loopDelayMaxMs).toBe(at(second(long.fromMs)));

    // A disruption overlapping a stall may be the harness's own; one in a quiet second is not.
    expect(monitor.overlapsStall(short.fromMs + 50, short.fromMs + 60)).toBe(true);
    expect(monitor.overlapsStall(long.toMs - 10, long.toMs + 2000)).toBe(true);
    expect(monitor.overlapsStall(100, 400)).toBe(stalled.includes(0));
    expect(monitor.overlapsStall(2200, 2400)).toBe(stalled.includes(2));
    expect(monitor.overlapsStall(5200, 5300)).toBe(stalled.includes(5));
    // A higher threshold clears the short stall but not the long one.
    expect(monitor.stalledSeconds(600).map((s) => s.second)).toEqual([second(long.fromMs)]);

    // Stopped: no read-out timer is left to add seconds.
    await until(clock, (second(clock.now()) + 1) * 1000 + 100);
    expect(monitor.seconds()).toHaveLength(seconds.length);
  });

  it('keeps the send lag per second of the actual send: max, count and the 99th percentile', () => {
    const clock = new SystemClock();
    const monitor = new LagMonitor(clock, { stallThresholdMs: 60 });
    monitor.start();
    const now = clock.now();
    const s = Math.floor(now / 1000);
    for (let lag = 0; lag < 100; lag += 1) monitor.sendLag(now - lag, now);
    monitor.sendLag(now + 5, now); // sent before its time: no lag
    const [only, ...rest] = monitor.stop();
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ second: s, sends: 101, sendLagMaxMs: 99 });
    // The 99th of 101 is 97 ms; a bucket is at most 9 % wide and its top never exceeds the max.
    expect(only?.sendLagP99Ms).toBeGreaterThanOrEqual(97);
    expect(only?.sendLagP99Ms).toBeLessThanOrEqual(99);
    expect(monitor.stalledSeconds().map((x) => x.second)).toEqual([s]);
    expect(monitor.stalledSeconds(100)).toEqual([]);
    monitor.sendLag(0, 10_000); // after stop: ignored
    expect(monitor.seconds()).toHaveLength(1);
  });

  it('records a send in constant time: a million in under two seconds, even on a busy machine', () => {
    const clock = new SystemClock();
    const monitor = new LagMonitor(clock);
    monitor.start();
    const t0 = performance.now();
    for (let i = 0; i < 1_000_000; i += 1) monitor.sendLag(i * 0.0005 - (i % 300), i * 0.0005);
    const took = performance.now() - t0;
    const [first] = monitor.stop();
    expect(took).toBeLessThan(2000);
    expect(first).toMatchObject({ second: 0, sends: 1_000_000, sendLagMaxMs: 299 });
  });

  it('defaults to a 50 ms threshold and 10 ms resolution; rejects bad ones, and a second start', () => {
    const clock = new SystemClock();
    expect(new LagMonitor(clock)).toMatchObject({ stallThresholdMs: 50, resolutionMs: 10 });
    expect(() => new LagMonitor(clock, { resolutionMs: 0.5 })).toThrow(/resolutionMs: expected an integer >= 1, found 0.5/);
    expect(() => new LagMonitor(clock, { stallThresholdMs: -1 })).toThrow(/stallThresholdMs: expected a number of ms > 0, found -1/);
    const monitor = new LagMonitor(clock);
    monitor.start();
    expect(() => monitor.start()).toThrow(/already running/);
    monitor.stop();
    expect(() => monitor.start()).toThrow(/already stopped/);
  });
});
