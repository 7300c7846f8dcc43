import { describe, expect, it } from 'vitest';
import { clientRtoMs, detectDisruptions } from '../../harness/timeline/disruption.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { TimelineData } from '../../harness/timeline/types.js';
import type { Service } from './synthetic.js';
import { feed, generate, healthy, http503, outage, outliers, phasesOf, prng, refused, stalled } from './synthetic.js';

/**
 * Client RTO truth, by completion time (what clients observed): the instant the last failed or
 * SLO-violating outcome completed, minus the fault instant.
 */
const SLO = { latencyP95Ms: 500 };
const SUSTAIN_MS = 3_000;

function timeline(service: Service, opts: { toMs?: number; faultAtMs?: number; seed?: number; rate?: number } = {}): TimelineData {
  const toMs = opts.toMs ?? 60_000;
  const faults = opts.faultAtMs === undefined ? [] : [{ name: 'kill', atMs: opts.faultAtMs, durationMs: 5_000 }];
  const rec = new TimelineRecorder({ phases: phasesOf(toMs, 5_000, faults), sloLatencyMs: SLO.latencyP95Ms, maxLatencyMs: 10_000 });
  feed(rec, generate({ ratePerSec: opts.rate ?? 500, toMs, seed: opts.seed ?? 1, service }));
  return rec.snapshot();
}

describe('client RTO calibration against outages of known length', () => {
  it('3000 ms of refused connections from a non-aligned 20 345 ms', () => {
    const data = timeline(outage(healthy, 20_345, 23_345, refused), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto.recovered).toBe(true);
    expect(rto.sustainConfirmed).toBe(true);
    expect(Math.abs((rto.rtoMs ?? Infinity) - 3_000)).toBeLessThanOrEqual(100);
  });

  it('1500 ms of 2-second stalls: clients see slow answers until the last stalled one completes', () => {
    const data = timeline(outage(healthy, 20_345, 21_845, stalled(2_000)), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    // The last stalled request was sent just before 21 845 and completes 2 s later.
    expect(Math.abs((rto.rtoMs ?? Infinity) - 3_500)).toBeLessThanOrEqual(100);
  });

  it('700 ms of 503s', () => {
    const data = timeline(outage(healthy, 31_777, 32_477, http503), { faultAtMs: 31_777 });
    const rto = clientRtoMs(data, 31_777, SLO, SUSTAIN_MS);
    expect(Math.abs((rto.rtoMs ?? Infinity) - 700)).toBeLessThanOrEqual(100);
  });

  it('2500 ms of silence (no answer at all, then service resumes)', () => {
    const silent = generate({ ratePerSec: 500, toMs: 60_000, service: healthy }).filter((o) => o.endMs < 20_345 || o.endMs >= 22_845);
    const rec = new TimelineRecorder({ phases: phasesOf(60_000, 5_000, []), sloLatencyMs: 500, maxLatencyMs: 10_000 });
    feed(rec, silent);
    const data = rec.snapshot();
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(Math.abs((rto.rtoMs ?? Infinity) - 2_500)).toBeLessThanOrEqual(100);
    const [d] = detectDisruptions(data, SLO);
    expect(Math.abs((d?.startMs ?? 0) - 20_345)).toBeLessThanOrEqual(100);
    expect(Math.abs((d?.endMs ?? 0) - 22_845)).toBeLessThanOrEqual(100);
  });

  it('stays within 100 ms at 50 rps, where most ticks are empty', () => {
    for (const [kind, extra] of [[refused, 0], [stalled(1_500), 1_500]] as const) {
      const data = timeline(outage(healthy, 25_432.5, 27_332.5, kind), { faultAtMs: 25_432.5, rate: 50, seed: 3 });
      const rto = clientRtoMs(data, 25_432.5, SLO, SUSTAIN_MS);
      expect(Math.abs((rto.rtoMs ?? Infinity) - (1_900 + extra))).toBeLessThanOrEqual(100);
    }
  });

  it('stays within 100 ms over random offsets, lengths, kinds and background outliers', () => {
    const rnd = prng(2024);
    const kinds: Service[] = [refused, http503, stalled(1_200)];
    for (let trial = 0; trial < 12; trial++) {
      const at = 10_000 + Math.floor(rnd() * 20_000) + rnd();
      const length = 200 + Math.floor(rnd() * 5_000);
      const kind = kinds[trial % kinds.length] as Service;
      const stall = kind === kinds[2] ? 1_200 : 0;
      const service = outage(outliers(healthy, 0.01, 900), at, at + length, kind);
      const data = timeline(service, { faultAtMs: at, seed: trial + 10 });
      const rto = clientRtoMs(data, at, SLO, SUSTAIN_MS);
      expect({ trial, error: Math.abs((rto.rtoMs ?? Infinity) - (length + stall)) <= 100 }).toEqual({ trial, error: true });
    }
  });
});

describe('client RTO edge cases', () => {
  it('is 0 when clients saw no disruption', () => {
    const data = timeline(healthy, { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto).toMatchObject({ rtoMs: 0, recovered: true, sustainConfirmed: true });
  });

  it('does not count slow outliers below 5% as disruption', () => {
    const data = timeline(outliers(healthy, 0.03, 2_000), { faultAtMs: 20_345, seed: 5 });
    expect(data.seconds.reduce((s, w) => s + w.slow, 0)).toBeGreaterThan(100);
    expect(detectDisruptions(data, SLO)).toEqual([]);
    expect(clientRtoMs(data, 20_345, SLO, SUSTAIN_MS).rtoMs).toBe(0);
  });

  it('is null with a flag when clients never recovered', () => {
    const data = timeline(outage(healthy, 20_345, 1e9, refused), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto).toMatchObject({ rtoMs: null, recovered: false, reason: 'not recovered' });
  });

  it('runs through a relapse that comes before the sustain period is over', () => {
    const relapse = outage(outage(healthy, 20_345, 22_000, refused), 24_100, 24_400, http503);
    const rto = clientRtoMs(timeline(relapse, { faultAtMs: 20_345 }), 20_345, SLO, SUSTAIN_MS);
    expect(Math.abs((rto.rtoMs ?? Infinity) - (24_400 - 20_345))).toBeLessThanOrEqual(100);
  });

  it('counts a recovery cut short by the end of the data, flagged unconfirmed', () => {
    const data = timeline(outage(healthy, 20_345, 58_500, refused), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto.recovered).toBe(true);
    expect(rto.sustainConfirmed).toBe(false);
    expect(Math.abs((rto.rtoMs ?? Infinity) - (58_500 - 20_345))).toBeLessThanOrEqual(100);
  });

  it('refuses an SLO other than the one the timeline was recorded against', () => {
    const data = timeline(healthy, { toMs: 10_000 });
    expect(() => clientRtoMs(data, 5_000, { latencyP95Ms: 200 }, SUSTAIN_MS)).toThrow(RangeError);
    expect(() => detectDisruptions(data, { latencyP95Ms: 200 })).toThrow(RangeError);
  });
});

describe('detectDisruptions', () => {
  it('finds an outage nobody injected, with tick-precise edges and no fault', () => {
    const data = timeline(outage(healthy, 33_210, 34_930, refused));
    const found = detectDisruptions(data, SLO);
    expect(found).toHaveLength(1);
    const [d] = found;
    expect(d?.fault).toBeUndefined();
    expect(Math.abs((d?.startMs ?? 0) - 33_210)).toBeLessThanOrEqual(20);
    expect(Math.abs((d?.endMs ?? 0) - 34_930)).toBeLessThanOrEqual(20);
    expect(d?.failures).toBe(d?.transportErrors.refused);
    expect(d?.failures).toBeGreaterThan(800);
    expect([d?.firstWindow, d?.lastWindow]).toEqual([33, 34]);
  });

  it('names the fault it overlaps and reports the worst p95 of a slowdown', () => {
    const data = timeline(outage(healthy, 20_345, 21_845, stalled(2_000)), { faultAtMs: 20_345 });
    const found = detectDisruptions(data, SLO);
    expect(found).toHaveLength(1);
    expect(found[0]?.fault).toBe('kill');
    expect(found[0]?.worstP95Ms).toBeGreaterThan(2_000);
    expect(Math.abs((found[0]?.endMs ?? 0) - 23_845)).toBeLessThanOrEqual(100);
  });

  it('keeps separate outages apart and ignores warm-up', () => {
    const service = outage(outage(outage(healthy, 1_000, 2_000, refused), 12_500, 12_800, http503), 40_000, 41_000, refused);
    const found = detectDisruptions(timeline(service), SLO);
    expect(found.map((d) => d.firstWindow)).toEqual([12, 40]);
  });
});
