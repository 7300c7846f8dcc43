import { describe, expect, it } from 'vitest';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { selectPhases } from '../../harness/timeline/merge.js';
import type { Outcome, Service } from './synthetic.js';
import { brutePercentile, feed, generate, healthy, micros, outage, phasesOf, prng } from './synthetic.js';

const SLO = 100;
const phases = phasesOf(60_000, 5_000, [{ name: 'kill', atMs: 20_345, durationMs: 10_000 }]);

/** 200 mostly, with 1xx/3xx/4xx/5xx sprinkled in and a long tail of latencies. */
const mixed: Service = (_s, rnd) => {
  const r = rnd();
  const status = r < 0.01 ? 101 : r < 0.03 ? 304 : r < 0.08 ? 404 : r < 0.1 ? 503 : 200;
  const latencyMs = rnd() < 0.05 ? 50 + 400 * rnd() : 1 + 9 * rnd();
  return { kind: 'response', status, latencyMs };
};

function recorded(outcomes: Outcome[], tickMs?: number) {
  const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 10_000, ...(tickMs ? { tickMs } : {}) });
  feed(rec, outcomes);
  return rec.snapshot();
}

function latenciesUs(outcomes: readonly Outcome[]): number[] {
  return outcomes.flatMap((o) => (o.kind === 'response' ? [micros(o.latencyMs)] : [])).sort((a, b) => a - b);
}

/** HDR (3 digits) reports the top of the value's bucket: never below the exact value, at most 1/1024 above. */
function expectHdrClose(actualMs: number | null, exactUs: number): void {
  expect(actualMs).not.toBeNull();
  const us = (actualMs as number) * 1000;
  expect(us).toBeGreaterThanOrEqual(exactUs - 1e-6);
  expect(us).toBeLessThanOrEqual(exactUs * (1 + 1 / 1024) + 1);
}

describe('TimelineRecorder windows', () => {
  const outcomes = generate({ ratePerSec: 500, toMs: 60_000, seed: 7, service: mixed });
  const data = recorded(outcomes);

  it('counts every outcome in the second it completed, by status class', () => {
    expect(data.seconds.length).toBe(Math.floor(Math.max(...outcomes.map((o) => o.endMs)) / 1000) + 1);
    for (const w of data.seconds) {
      const inside = outcomes.filter((o) => o.endMs >= w.startMs && o.endMs < w.endMs);
      const byClass = (lo: number) => inside.filter((o) => o.kind === 'response' && o.status >= lo && o.status < lo + 100).length;
      expect(w.count).toBe(inside.length);
      expect(w.status).toEqual({ '1xx': byClass(100), '2xx': byClass(200), '3xx': byClass(300), '4xx': byClass(400), '5xx': byClass(500) });
      expect(w.status5xx).toBe(byClass(500));
      expect(w.failures).toBe(byClass(500));
      expect(w.slow).toBe(inside.filter((o) => o.kind === 'response' && o.latencyMs > SLO).length);
    }
  });

  it('gives per-second percentiles that agree with a sorted array within HDR precision', () => {
    for (const w of data.seconds) {
      const exact = latenciesUs(outcomes.filter((o) => o.endMs >= w.startMs && o.endMs < w.endMs));
      expect(w.histogram.totalCount).toBe(exact.length);
      expectHdrClose(w.p50Ms, brutePercentile(exact, 50));
      expectHdrClose(w.p95Ms, brutePercentile(exact, 95));
      expectHdrClose(w.p99Ms, brutePercentile(exact, 99));
      expectHdrClose(w.maxMs, exact[exact.length - 1] as number);
    }
  });

  it('gives per-phase counts and percentiles that agree with brute force', () => {
    expect(data.phases.map((p) => p.span.phase)).toEqual(['warmup', 'baseline', 'fault', 'recovery', 'after']);
    for (const p of data.phases) {
      const last = p.index === data.phases.length - 1;
      const inside = outcomes.filter((o) => o.endMs >= p.span.startMs && (last || o.endMs < p.span.endMs));
      const exact = latenciesUs(inside);
      expect(p.count).toBe(inside.length);
      expect(p.responses).toBe(exact.length);
      expectHdrClose(p.p95Ms, brutePercentile(exact, 95));
      expectHdrClose(p.p99Ms, brutePercentile(exact, 99));
    }
  });

  it('merges the phases of a selection losslessly', () => {
    const sel = selectPhases(data, ['fault', 'recovery']);
    const from = phases.find((p) => p.phase === 'fault')?.startMs ?? 0;
    const to = phases.find((p) => p.phase === 'recovery')?.endMs ?? 0;
    const exact = latenciesUs(outcomes.filter((o) => o.endMs >= from && o.endMs < to));
    expect(sel.responses).toBe(exact.length);
    expect(sel.histogram.totalCount).toBe(exact.length);
    expect(sel.durationMs).toBe(to - from);
    expectHdrClose(sel.p95Ms, brutePercentile(exact, 95));
  });

  it('counts fine ticks that add up to the windows', () => {
    const { ticks } = data;
    expect(ticks.tickMs).toBe(10);
    const sum = (a: Uint32Array) => a.reduce((s, x) => s + x, 0);
    expect(sum(ticks.total)).toBe(outcomes.length);
    expect(sum(ticks.failures)).toBe(data.seconds.reduce((s, w) => s + w.failures, 0));
    expect(sum(ticks.slow)).toBe(data.seconds.reduce((s, w) => s + w.slow, 0));
    const t = 2034; // [20340, 20350)
    const inTick = outcomes.filter((o) => o.endMs >= 20_340 && o.endMs < 20_350);
    expect(ticks.total[t]).toBe(inTick.length);
  });
});

describe('TimelineRecorder outcomes that are not plain responses', () => {
  it('keeps transport errors apart from statuses and out of the latency histograms', () => {
    const kinds = ['refused', 'reset', 'timeout', 'closed', 'other'] as const;
    const service = outage(healthy, 10_000, 12_000, (_s, rnd) => ({ kind: 'error', error: kinds[Math.floor(rnd() * 5)] ?? 'other', latencyMs: 5_000 }));
    const outcomes = generate({ ratePerSec: 200, toMs: 20_000, seed: 3, service });
    const data = recorded(outcomes);
    const errors = outcomes.filter((o) => o.kind === 'error');
    const total = data.seconds.reduce((s, w) => s + w.transportErrors.total, 0);
    expect(total).toBe(errors.length);
    for (const kind of kinds) {
      expect(data.seconds.reduce((s, w) => s + w.transportErrors[kind], 0)).toBe(errors.filter((o) => o.kind === 'error' && o.error === kind).length);
    }
    for (const w of data.seconds) {
      expect(w.status['5xx']).toBe(0);
      expect(w.responses).toBe(w.histogram.totalCount);
      expect(w.failures).toBe(w.transportErrors.total);
      // The 5 s "latency" of the errors must not reach the percentiles.
      if (w.maxMs !== null) expect(w.maxMs).toBeLessThan(10);
    }
  });

  it('counts drops in their window and phase without making them outcomes', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000 });
    rec.dropped(0, 6_500);
    rec.dropped(0, 6_700);
    rec.response(0, 6_800, 4, 200);
    const data = rec.snapshot();
    const w = data.seconds[6];
    expect(w?.dropped).toBe(2);
    expect(w?.count).toBe(1);
    expect(data.phases[1]?.dropped).toBe(2);
  });

  it('clamps latencies above the range and counts them; clamps non-positive latencies to 1 µs', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 2_000 });
    rec.response(0, 100, 5_000, 200);
    rec.response(0, 200, 0, 200);
    rec.response(0, 300, -3, 200);
    const w = rec.snapshot().seconds[0];
    expect(w?.clamped).toBe(1);
    expect(w?.responses).toBe(3);
    expect(w?.maxMs).toBeGreaterThanOrEqual(2_000);
    expect(w?.maxMs).toBeLessThanOrEqual(2_000 * (1 + 1 / 1024));
    expect(w?.p50Ms).toBe(0.001);
    expect(w?.slow).toBe(1);
  });

  it('keeps two fault phases apart and gives outcomes after the last phase to it', () => {
    const twoFaults = phasesOf(40_000, 0, [
      { name: 'a', atMs: 5_000, durationMs: 5_000 },
      { name: 'b', atMs: 20_000, durationMs: 5_000 },
    ]);
    const rec = new TimelineRecorder({ phases: twoFaults, sloLatencyMs: SLO, maxLatencyMs: 1000 });
    rec.response(0, 6_000, 4, 200);
    rec.response(0, 21_000, 4, 503);
    rec.response(0, 21_500, 4, 503);
    rec.response(0, 40_050, 4, 200);
    const data = rec.snapshot();
    const faults = data.phases.filter((p) => p.span.phase === 'fault');
    expect(faults.map((p) => [p.span.fault, p.count, p.status5xx])).toEqual([
      ['a', 1, 0],
      ['b', 2, 2],
    ]);
    expect(data.phases[data.phases.length - 1]?.count).toBe(1);
    expect(data.seconds[21]?.fault).toBe('b');
    expect(data.seconds[21]?.phase).toBe('fault');
  });

  it('hands out snapshots that later recording does not change', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000 });
    rec.response(0, 500, 4, 200);
    const before = rec.snapshot();
    rec.response(0, 600, 40, 200);
    rec.response(0, 700, 40, 200);
    expect(before.seconds[0]?.count).toBe(1);
    expect(before.seconds[0]?.histogram.totalCount).toBe(1);
    expect(before.ticks.total.reduce((s, x) => s + x, 0)).toBe(1);
    expect(rec.snapshot().seconds[0]?.count).toBe(3);
  });

  it('copies on write a sealed second that a late outcome reaches after a snapshot', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000 });
    for (let t = 0; t < 10_000; t += 100) rec.response(0, t, 4, 200);
    const before = rec.snapshot();
    rec.response(0, 1_500, 900, 200);
    const after = rec.snapshot();
    expect(before.seconds[1]?.histogram.totalCount).toBe(10);
    expect(before.seconds[1]?.maxMs).toBeLessThan(5);
    expect(after.seconds[1]?.histogram.totalCount).toBe(11);
    expect(after.seconds[1]?.maxMs).toBeGreaterThanOrEqual(900);
    expect(after.seconds[1]?.meanMs).toBeCloseTo((10 * 4 + 900) / 11, 9);
  });

  it('keeps empty seconds in between and grows the ticks past their initial size', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000, tickMs: 1 });
    rec.response(0, 100, 4, 200);
    rec.response(0, 59_999, 4, 200);
    const data = rec.snapshot();
    expect(data.seconds.length).toBe(60);
    expect(data.seconds[30]?.count).toBe(0);
    expect(data.seconds[30]?.p95Ms).toBeNull();
    expect(data.ticks.total.length).toBe(60_000);
    expect(data.ticks.total[59_999]).toBe(1);
  });

  it('refuses a tick that does not tile the second', () => {
    expect(() => new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000, tickMs: 7 })).toThrow(RangeError);
    expect(() => new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 0 })).toThrow(RangeError);
  });

  it('records a long stream quickly (hot path)', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 10_000 });
    const rnd = prng(11);
    const started = performance.now();
    for (let i = 0; i < 300_000; i++) rec.response(0, i * 0.2, 2 + 10 * rnd(), 200);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(rec.snapshot().seconds.reduce((s, w) => s + w.count, 0)).toBe(300_000);
  });
});
