import { describe, expect, it } from 'vitest';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { Outcome } from './synthetic.js';
import { feed, generate, healthy, outage, phasesOf, prng } from './synthetic.js';

const SLO = 100;
const phases = phasesOf(60_000, 5_000, [{ name: 'kill', atMs: 20_345, durationMs: 10_000 }]);

function recorded(outcomes: Outcome[]) {
  const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 10_000 });
  feed(rec, outcomes);
  return rec.snapshot();
}

describe('TimelineRecorder outcomes that are not plain responses', () => {
  it('keeps transport errors apart from statuses and times them at their elapsed time, in the second they were sent', () => {
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
      expect(w.count).toBe(w.histogram.totalCount);
      expect(w.failures).toBe(w.transportErrors.total);
      const sentHere = errors.filter((o) => o.sendMs >= w.startMs && o.sendMs < w.endMs).length;
      expect(w.transportErrors.total).toBe(sentHere);
      // The errors' 5 s are in the percentiles of the seconds they were sent in, and only there.
      if (sentHere > 0) expect(w.p50Ms).toBeGreaterThanOrEqual(5_000);
      else if (w.maxMs !== null) expect(w.maxMs).toBeLessThan(10);
    }
    // Served-only percentiles leave the errors out.
    const fault = data.phases.find((p) => p.span.phase === 'baseline');
    expect(fault?.p99Ms).toBeGreaterThanOrEqual(5_000);
    expect(fault?.served.p99Ms).toBeLessThan(10);
  });

  it('counts drops in their window and phase as failures without making them outcomes', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000 });
    rec.dropped(0, 6_500);
    rec.dropped(0, 6_700);
    rec.response(0, 6_800, 4, 200);
    const data = rec.snapshot();
    const w = data.seconds[6];
    expect(w?.dropped).toBe(2);
    expect(w?.count).toBe(1);
    expect(w?.arrivals).toBe(3);
    expect(w?.failures).toBe(2);
    expect(data.phases[1]?.dropped).toBe(2);
    expect(data.ticks.failures[650]).toBe(1);
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
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 10_000 });
    for (let t = 0; t < 10_000; t += 100) rec.response(0, t + 4, 4, 200);
    const before = rec.snapshot();
    // Sent at 1.5 s, completed long after the snapshot sealed that second.
    rec.response(0, 9_500, 8_000, 200);
    const after = rec.snapshot();
    expect(before.seconds[1]?.histogram.totalCount).toBe(10);
    expect(before.seconds[1]?.maxMs).toBeLessThan(5);
    expect(after.seconds[1]?.histogram.totalCount).toBe(11);
    expect(after.seconds[1]?.maxMs).toBeGreaterThanOrEqual(8_000);
    expect(after.seconds[1]?.meanMs).toBeCloseTo((10 * 4 + 8_000) / 11, 9);
  });

  it('keeps empty seconds in between and grows the ticks past their initial size', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: SLO, maxLatencyMs: 1000, tickMs: 1 });
    rec.response(0, 104, 4, 200);
    rec.response(0, 60_003, 4, 200);
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
