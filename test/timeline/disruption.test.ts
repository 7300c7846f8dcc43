import { describe, expect, it } from 'vitest';
import { clientRtoMs, detectDisruptions } from '../../harness/timeline/disruption.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { TimelineData } from '../../harness/timeline/types.js';
import type { Service } from './synthetic.js';
import { feed, generate, healthy, http503, hung, outage, outliers, phasesOf, prng, refused, stalled, withInFlightLimit } from './synthetic.js';

/**
 * Client RTO truth, by send time (where clients met the outage): the end of the span in which a
 * request sent failed or violated the SLO, minus the fault instant. An outage that answers slowly
 * or hangs is timed like one that answers at once.
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

  it('1500 ms of 2-second stalls: requests sent during the stall are slow, later ones are not', () => {
    const data = timeline(outage(healthy, 20_345, 21_845, stalled(2_000)), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    // The last stalled request was sent just before 21 845 (it completes 2 s later, which does not matter).
    expect(Math.abs((rto.rtoMs ?? Infinity) - 1_500)).toBeLessThanOrEqual(100);
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

  it('an outage that hangs for 4000 ms (200 req/s, timeouts of 1 s and 5 s, arrivals dropped at maxInFlight) within 100 ms', () => {
    // With 1 s, maxInFlight (100) fills during the hang and arrivals are dropped; with 5 s, maxInFlight
    // is rate × timeout, as it must be for the generator not to drop arrivals past a hang's end
    // while the hung requests wait out their timeout.
    for (const [timeoutMs, maxInFlight] of [[1_000, 100], [5_000, 1_000]] as const) {
      const at = 20_345;
      const sent = generate({ ratePerSec: 200, toMs: 60_000, seed: 9, service: outage(healthy, at, at + 4_000, hung(timeoutMs)) });
      const outcomes = withInFlightLimit(sent, maxInFlight);
      if (timeoutMs === 1_000) expect(outcomes.filter((o) => o.kind === 'drop').length).toBeGreaterThan(100);
      const rec = new TimelineRecorder({ phases: phasesOf(60_000, 5_000, [{ name: 'hang', atMs: at, durationMs: 4_000 }]), sloLatencyMs: 500, maxLatencyMs: 2 * timeoutMs });
      feed(rec, outcomes);
      const data = rec.snapshot();
      const rto = clientRtoMs(data, at, SLO, SUSTAIN_MS);
      expect({ timeoutMs, rto: Math.abs((rto.rtoMs ?? Infinity) - 4_000) <= 100 }).toEqual({ timeoutMs, rto: true });
      const [d] = detectDisruptions(data, SLO);
      expect({ timeoutMs, start: Math.abs((d?.startMs ?? 0) - at) <= 100, end: Math.abs((d?.endMs ?? 0) - (at + 4_000)) <= 100 }).toEqual({ timeoutMs, start: true, end: true });
      // Every client that met the hang is a failure, timeouts and drops alike; beyond them, only the
      // few arrivals dropped just after it while the hung requests still held maxInFlight.
      const metHang = outcomes.filter((o) => o.sendMs >= at && o.sendMs < at + 4_000).length;
      const dropsAfter = outcomes.filter((o) => o.kind === 'drop' && o.sendMs >= at + 4_000).length;
      expect(d?.failures).toBe(metHang + dropsAfter);
      expect(dropsAfter).toBeLessThan(20);
    }
  });

  it('stays within 100 ms at 50 rps, where most ticks are empty', () => {
    for (const [kind, extra] of [[refused, 0], [stalled(1_500), 1_500]] as const) {
      const data = timeline(outage(healthy, 25_432.5, 27_332.5, kind), { faultAtMs: 25_432.5, rate: 50, seed: 3 });
      const rto = clientRtoMs(data, 25_432.5, SLO, SUSTAIN_MS);
      expect(Math.abs((rto.rtoMs ?? Infinity) - 1_900)).toBeLessThanOrEqual(100);
      expect(extra).toBeGreaterThanOrEqual(0);
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
      expect({ trial, stall, error: Math.abs((rto.rtoMs ?? Infinity) - length) <= 100 }).toEqual({ trial, stall, error: true });
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

  it('does not count a recovery cut short by the end of the data: not observed, not recovered', () => {
    const data = timeline(outage(healthy, 20_345, 58_500, refused), { faultAtMs: 20_345 });
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto).toMatchObject({ rtoMs: null, recovered: false, sustainConfirmed: false });
    expect(rto.reason).toMatch(/not observed until the end of the run/);
  });

  it('does not give 0 for a fault late in its second when sustain is 1 s or less', () => {
    // The fault's own second is mostly healthy (requests sent before the fault); it must not vouch.
    for (const sustain of [500, 1_000]) {
      const data = timeline(outage(healthy, 20_900, 22_400, refused), { faultAtMs: 20_900 });
      const rto = clientRtoMs(data, 20_900, SLO, sustain);
      expect(Math.abs((rto.rtoMs ?? Infinity) - 1_500)).toBeLessThanOrEqual(100);
    }
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
    expect(Math.abs((found[0]?.endMs ?? 0) - 21_845)).toBeLessThanOrEqual(100);
  });

  it('keeps separate outages apart and ignores warm-up', () => {
    const service = outage(outage(outage(healthy, 1_000, 2_000, refused), 12_500, 12_800, http503), 40_000, 41_000, refused);
    const found = detectDisruptions(timeline(service), SLO);
    expect(found.map((d) => d.firstWindow)).toEqual([12, 40]);
  });
});
