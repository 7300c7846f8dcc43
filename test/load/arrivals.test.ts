import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../harness/core/clock.js';
import { BATCH_MS, DENSE_INTERVAL_MS, MAX_BATCH, RampCurve, TICK_MS, plansArrivalBetween, runArrivals, runRampingArrivals } from '../../harness/load/arrivals.js';
import type { LoadPlan, RampStage } from '../../harness/load/types.js';

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
    const total = await runArrivals(clock, 1_000, () => inBatch++, new AbortController().signal, { maxRunMs: 30_000 });
    expect(Math.max(...batches)).toBe(MAX_BATCH);
    expect(total).toBeLessThanOrEqual(30_001); // ended by maxRunMs, backlog or not
  });
});

describe('dense arrivals (2,000/s and more) go in batches on a grid', () => {
  /** Runs a schedule in fake time, recording each arrival's intended time and the clock at its emission. */
  async function emitted(run: (clock: ManualClock, on: (k: number, t: number, now: number) => void, signal: AbortSignal) => Promise<number>, forMs: number): Promise<Array<{ t: number; now: number }>> {
    const clock = new ManualClock();
    const out: Array<{ t: number; now: number }> = [];
    const stop = new AbortController();
    const done = run(clock, (_k, t, now) => out.push({ t, now }), stop.signal);
    await clock.advance(forMs);
    stop.abort();
    await done;
    return out;
  }

  it('at 5,000/s: each arrival is due at k / rate rounded up to the grid, never sent before it, 20 per batch', async () => {
    const out = await emitted((clock, on, signal) => runArrivals(clock, 5_000, on, signal), 1_000);
    expect(out.length).toBeGreaterThanOrEqual(4_980);
    out.forEach(({ t, now }, k) => {
      expect(t).toBe(k === 0 ? 0 : Math.ceil((k * 0.2 - 1e-9) / BATCH_MS) * BATCH_MS);
      expect(now).toBeGreaterThanOrEqual(t);
    });
    const perBatch = new Map<number, number>();
    for (const { t } of out) perBatch.set(t, (perBatch.get(t) ?? 0) + 1);
    expect([...perBatch.entries()].filter(([t]) => t > 0 && t < 996).every(([, n]) => n === BATCH_MS / 0.2)).toBe(true);
  });

  it('at 1,000/s (sparser than DENSE_INTERVAL_MS): no batches, every arrival at its own time', async () => {
    expect(1_000 / 1_000).toBeGreaterThan(DENSE_INTERVAL_MS);
    const out = await emitted((clock, on, signal) => runArrivals(clock, 1_000, on, signal), 500);
    out.forEach(({ t }, k) => expect(t).toBe(k));
  });

  it('a ramp through 2,000/s: sparse arrivals at their own time, dense ones on the grid, never going back', async () => {
    const stages = [{ toPerSec: 4_000, overMs: 2_000 }, { toPerSec: 0, overMs: 2_000 }];
    const curve = new RampCurve(0, stages);
    const out = await emitted((clock, on, signal) => runRampingArrivals(clock, { startPerSec: 0, stages }, on, signal), 4_100);
    expect(out.length).toBe(Math.floor(curve.total));
    let gridded = 0;
    out.forEach(({ t, now }, k) => {
      const due = curve.timeOf(k + 1);
      const gap = due - (k === 0 ? Number.NEGATIVE_INFINITY : curve.timeOf(k));
      expect(now).toBeGreaterThanOrEqual(t);
      expect(t).toBeGreaterThanOrEqual(k === 0 ? 0 : (out[k - 1] as { t: number }).t);
      if (gap >= DENSE_INTERVAL_MS) expect(t).toBeGreaterThanOrEqual(due);
      else {
        expect(t / BATCH_MS).toBe(Math.round(t / BATCH_MS));
        expect(t - due).toBeLessThan(BATCH_MS);
        expect(t).toBeGreaterThanOrEqual(due - 1e-9);
        gridded++;
      }
      // A sparse arrival is only held back by a batch just before it.
      if (gap >= DENSE_INTERVAL_MS && t > due) expect(t - due).toBeLessThan(BATCH_MS);
    });
    // At 2,000/s or more from 1 s to 3 s: N(3 s) − N(1 s) = 7,000 − 1,000 arrivals on the grid.
    expect(gridded).toBeGreaterThan(5_990);
    expect(gridded).toBeLessThan(6_010);
  });

  it('a late wake-up keeps the grid times: the lateness is in the latency', async () => {
    const clock = lateClock(7);
    const out: Array<{ t: number; now: number }> = [];
    const stop = new AbortController();
    await runArrivals(clock, 10_000, (_k, t, now) => {
      out.push({ t, now });
      if (out.length >= 2_000) stop.abort();
    }, stop.signal);
    out.forEach(({ t, now }, k) => {
      expect(t).toBe(k === 0 ? 0 : Math.ceil((k * 0.1 - 1e-9) / BATCH_MS) * BATCH_MS);
      expect(now).toBeGreaterThanOrEqual(t);
    });
    expect(out.some(({ t, now }) => now - t >= 7)).toBe(true);
  });
});

/**
 * The exact integral of a piecewise-linear rate, written independently of the scheduler: whole
 * stages as trapezoids, then the trapezoid up to t under the interpolated rate.
 */
function integral(startPerSec: number, stages: readonly RampStage[], tMs: number): number {
  let n = 0;
  let from = startPerSec;
  let at = 0;
  for (const s of stages) {
    const end = at + s.overMs;
    if (tMs < end) {
      const rate = from + ((s.toPerSec - from) * (tMs - at)) / s.overMs;
      return n + ((from + rate) / 2) * ((tMs - at) / 1000);
    }
    n += ((from + s.toPerSec) / 2) * (s.overMs / 1000);
    from = s.toPerSec;
    at = end;
  }
  return n;
}

const totalMs = (stages: readonly RampStage[]): number => stages.reduce((sum, s) => sum + s.overMs, 0);

/** Runs a ramp to its end in fake time; every arrival's intended and emitted time. */
async function rampInFakeTime(startPerSec: number, stages: RampStage[]): Promise<{ intended: number[]; emitted: number[]; count: number }> {
  const clock = new ManualClock();
  const intended: number[] = [];
  const emitted: number[] = [];
  const done = runRampingArrivals(clock, { startPerSec, stages }, (k, t, now) => {
    expect(k).toBe(intended.length);
    intended.push(t);
    emitted.push(now);
  }, new AbortController().signal);
  await clock.advance(totalMs(stages) + 10);
  // It ends by itself with the last stage, like k6's executor: no abort needed.
  return { intended, emitted, count: await done };
}

describe('ramping arrival rate', () => {
  const cases: Array<[string, number, RampStage[]]> = [
    ['a ramp from 0', 0, [{ toPerSec: 100, overMs: 2_000 }]],
    ['a ramp down to 0', 100, [{ toPerSec: 0, overMs: 2_000 }]],
    ['a flat stage', 50, [{ toPerSec: 50, overMs: 2_000 }]],
    ['fractional rates, a carried fraction, a jump', 0.5, [
      { toPerSec: 2.5, overMs: 3_000 },
      { toPerSec: 2.5, overMs: 1_500 },
      { toPerSec: 0.25, overMs: 2_000 },
      { toPerSec: 7.3, overMs: 0 },
      { toPerSec: 7.3, overMs: 1_100 },
    ]],
    ['up, hold, down (k6 shape)', 0, [{ toPerSec: 800, overMs: 3_000 }, { toPerSec: 800, overMs: 2_000 }, { toPerSec: 0, overMs: 1_000 }]],
  ];

  it.each(cases)('%s: arrival k is due exactly when the integral of the rate reaches k + 1', async (_name, start, stages) => {
    const { intended, emitted, count } = await rampInFakeTime(start, stages);
    const total = integral(start, stages, totalMs(stages));
    expect(count).toBe(Math.floor(total + 1e-9));
    expect(intended.length).toBe(count);
    intended.forEach((t, k) => {
      expect(integral(start, stages, t)).toBeCloseTo(k + 1, 6);
      expect(t).toBeGreaterThanOrEqual(k === 0 ? 0 : (intended[k - 1] as number));
      expect(t).toBeLessThanOrEqual(totalMs(stages));
      const lag = (emitted[k] as number) - t;
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(TICK_MS);
    });
  });

  it('a ramp from 0 sends its first arrival when one is due (k6), not at the start', async () => {
    // rate = 0.05·t per s (t in ms): N(t) = t² / 40 000, so N = 1 at 200 ms, N = n at 200·√n ms.
    const { intended } = await rampInFakeTime(0, [{ toPerSec: 100, overMs: 2_000 }]);
    expect(intended[0]).toBeCloseTo(200, 9);
    expect(intended[3]).toBeCloseTo(400, 9);
    expect(intended.filter((t) => t < 1_000)).toHaveLength(24); // N(1 s) = 25: arrivals 1..24 before it, the 25th at 1 s
    expect(intended[99]).toBeCloseTo(2_000, 9); // N = 100 exactly at the end
  });

  it('a ramp down to 0 ends with the last whole arrival; a flat stage is evenly spaced', async () => {
    const down = await rampInFakeTime(100, [{ toPerSec: 0, overMs: 2_000 }]);
    expect(down.count).toBe(100);
    expect(down.intended[99]).toBeCloseTo(2_000, 9);
    expect(down.intended[0]).toBeCloseTo((2 - Math.sqrt(3.96)) * 1000, 9); // N(t) = 100 t − 25 t² = 1 (t in s)
    const flat = await rampInFakeTime(50, [{ toPerSec: 50, overMs: 2_000 }]);
    expect(flat.intended).toEqual(Array.from({ length: 100 }, (_, k) => expect.closeTo((k + 1) * 20, 9)));
  });

  it('a stage at rate 0 sends nothing', async () => {
    const stages = [{ toPerSec: 10, overMs: 1_000 }, { toPerSec: 0, overMs: 0 }, { toPerSec: 0, overMs: 5_000 }, { toPerSec: 10, overMs: 1_000 }];
    const { intended } = await rampInFakeTime(0, stages);
    expect(intended).toHaveLength(10);
    expect(intended.filter((t) => t > 1_000 + 1e-9 && t < 6_000)).toEqual([]);
  });

  it('keeps intended times when wake-ups are late', async () => {
    const clock = lateClock(250);
    const stages = [{ toPerSec: 400, overMs: 3_000 }, { toPerSec: 100, overMs: 2_000 }];
    const intended: number[] = [];
    await runRampingArrivals(clock, { startPerSec: 20, stages }, (_k, t) => intended.push(t), new AbortController().signal);
    expect(intended.length).toBe(Math.floor(integral(20, stages, 5_000)));
    intended.forEach((t, k) => expect(integral(20, stages, t)).toBeCloseTo(k + 1, 6));
  });

  it('does not drift: over a 24 h ramp, arrival n is where the integral says', () => {
    const stages = [{ toPerSec: 1_000, overMs: 12 * 3_600_000 }, { toPerSec: 3.7, overMs: 12 * 3_600_000 }];
    const curve = new RampCurve(0.3, stages);
    const total = integral(0.3, stages, 24 * 3_600_000);
    expect(curve.total).toBeCloseTo(total, 3);
    for (const n of [1, 2, 1_000, 1e6, 2.16e7, 2.16e7 + 1, 3e7, Math.floor(total)]) {
      const t = curve.timeOf(n);
      expect(integral(0.3, stages, t) / n).toBeCloseTo(1, 11);
    }
    expect(curve.timeOf(Math.floor(total) + 1)).toBe(Infinity);
  });

  it('stops when aborted mid-ramp, and within maxRunMs', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const done = runRampingArrivals(clock, { startPerSec: 0, stages: [{ toPerSec: 100, overMs: 10_000 }] }, () => undefined, stop.signal);
    await clock.advance(2_050);
    stop.abort();
    expect(await done).toBe(Math.floor(integral(0, [{ toPerSec: 100, overMs: 10_000 }], 2_050))); // N(2.05 s) = 21.01
    const late = lateClock(10_000);
    const count = await runRampingArrivals(late, { startPerSec: 1_000, stages: [{ toPerSec: 1_000, overMs: 3_600_000 }] }, () => undefined, new AbortController().signal, { maxRunMs: 30_000 });
    expect(count).toBeLessThanOrEqual(30_000);
  });
});

describe('which seconds a load plans arrivals in (the abort guard skips the others)', () => {
  const ramp = (startRatePerSec: number, stages: RampStage[]): LoadPlan => ({ model: 'ramping', startRatePerSec, stages, connections: 1, maxInFlight: 1, timeoutMs: 1_000, mix: [{ op: 'get', weight: 1 }], seed: 1 }) as unknown as LoadPlan;

  it('not where the rate is 0, nor after the last stage; the last arrival before a pause is not in it', () => {
    // 0 → 200/s over 2 s (200 arrivals, the 200th at 2 s exactly), 3 s at 0, 2 s at 200/s.
    const load = ramp(0, [{ toPerSec: 200, overMs: 2_000 }, { toPerSec: 0, overMs: 0 }, { toPerSec: 0, overMs: 3_000 }, { toPerSec: 200, overMs: 0 }, { toPerSec: 200, overMs: 2_000 }]);
    const seconds = Array.from({ length: 9 }, (_, s) => plansArrivalBetween(load, s * 1000, s * 1000 + 999));
    expect(seconds).toEqual([true, true, true, false, false, true, true, true, false]); // the 600th and last at 7 s exactly
    expect(plansArrivalBetween(load, 2_000.001, 4_999)).toBe(false);
    expect(plansArrivalBetween(load, 4_000, 5_005)).toBe(true); // the first after the pause, at 5 s + 5 ms
    expect(plansArrivalBetween(load, 4_000, 5_004)).toBe(false);
    // A slow ramp from 0: the first arrival once a whole one is due (0.05/s² → N = t²/40: at 6.32 s).
    const slow = ramp(0, [{ toPerSec: 0.5, overMs: 10_000 }]);
    expect(plansArrivalBetween(slow, 0, 6_300)).toBe(false);
    expect(plansArrivalBetween(slow, 6_300, 6_400)).toBe(true);
  });

  it('always for the open and closed models', () => {
    const open = { model: 'open', ratePerSec: 0.1, connections: 1, maxInFlight: 1, timeoutMs: 1_000, seed: 1 } as unknown as LoadPlan;
    expect(plansArrivalBetween(open, 0, 100)).toBe(true);
  });
});
