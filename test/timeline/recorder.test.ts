import { describe, expect, it } from 'vitest';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { selectPhases } from '../../harness/timeline/merge.js';
import type { Outcome, Service } from './synthetic.js';
import { brutePercentile, feed, generate, micros, phasesOf } from './synthetic.js';

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
  return outcomes.flatMap((o) => (o.kind === 'drop' ? [] : [micros(o.latencyMs)])).sort((a, b) => a - b);
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

  it('counts every outcome in the second its request was sent, by status class', () => {
    expect(data.seconds.length).toBe(Math.floor(Math.max(...outcomes.map((o) => o.sendMs)) / 1000) + 1);
    for (const w of data.seconds) {
      const inside = outcomes.filter((o) => o.sendMs >= w.startMs && o.sendMs < w.endMs);
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
      const exact = latenciesUs(outcomes.filter((o) => o.sendMs >= w.startMs && o.sendMs < w.endMs));
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
      const inside = outcomes.filter((o) => o.sendMs >= p.span.startMs && (last || o.sendMs < p.span.endMs));
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
    const exact = latenciesUs(outcomes.filter((o) => o.sendMs >= from && o.sendMs < to));
    expect(sel.count).toBe(exact.length);
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
    const inTick = outcomes.filter((o) => o.sendMs >= 20_340 && o.sendMs < 20_350);
    expect(ticks.total[t]).toBe(inTick.length);
  });
});
