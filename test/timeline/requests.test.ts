import { describe, expect, it } from 'vitest';
import { selectRequest } from '../../harness/timeline/merge.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { RequestSpec } from '../../harness/timeline/requests.js';
import type { TimelineData } from '../../harness/timeline/types.js';
import type { Outcome, Service } from './synthetic.js';
import { brutePercentile, feed, generate, micros, outage, phasesOf, refused } from './synthetic.js';

const phases = phasesOf(60_000, 5_000, [{ name: 'kill', atMs: 20_345, durationMs: 10_000 }]);
const MAX_LATENCY_MS = 10_000;

type Tagged = Outcome & { op: number };

const REQUESTS: RequestSpec[] = [
  { name: 'get-order', expectedStatuses: [200] },
  { name: 'create-order', expectedStatuses: [201, 202] },
  { name: 'list' }, // default: any status below 400
];

/** get-order: fast, some 404 (unexpected) and 503, a long tail; refused in an outage. */
const getOrder: Service = outage(
  (_s, rnd) => {
    const r = rnd();
    return { kind: 'response', status: r < 0.05 ? 404 : r < 0.07 ? 503 : 200, latencyMs: rnd() < 0.05 ? 50 + 400 * rnd() : 1 + 9 * rnd() };
  },
  21_000,
  22_500,
  refused,
);
/** create-order: slower; 200 and 409 are unexpected; requests sent in [30 s, 31 s) time out after 5 s. */
const createOrder: Service = (s, rnd) => {
  if (s >= 30_000 && s < 31_000) return { kind: 'error', error: 'timeout', latencyMs: 5_000 };
  const r = rnd();
  return { kind: 'response', status: r < 0.04 ? 200 : r < 0.06 ? 409 : r < 0.5 ? 202 : 201, latencyMs: 20 + 20 * rnd() };
};
/** list: 304 is expected (below 400), 404 not, 500 a failure; some arrivals dropped. */
const list: Service = (_s, rnd) => {
  const r = rnd();
  if (r < 0.02) return { kind: 'drop' };
  return { kind: 'response', status: r < 0.1 ? 304 : r < 0.13 ? 404 : r < 0.15 ? 500 : 200, latencyMs: 5 + 100 * rnd() * rnd() };
};

function workload(toMs = 60_000): Tagged[] {
  const tag = (op: number, outcomes: Outcome[]) => outcomes.map((o) => ({ ...o, op }));
  return [
    ...tag(0, generate({ ratePerSec: 300, toMs, seed: 11, service: getOrder })),
    ...tag(1, generate({ ratePerSec: 60, toMs, seed: 12, service: createOrder })),
    ...tag(2, generate({ ratePerSec: 40, toMs, seed: 13, service: list })),
  ].sort((a, b) => a.endMs - b.endMs);
}

function record(outcomes: readonly Tagged[], requests: RequestSpec[] | null = REQUESTS): TimelineData {
  const rec = new TimelineRecorder({ phases, sloLatencyMs: 100, maxLatencyMs: MAX_LATENCY_MS, ...(requests ? { requests } : {}) });
  feed(rec, outcomes, (o) => (o as Tagged).op);
  return rec.snapshot();
}

function isUnexpected(o: Outcome, spec: RequestSpec): boolean {
  if (o.kind !== 'response' || o.status >= 500) return false;
  return spec.expectedStatuses ? !spec.expectedStatuses.includes(o.status) : o.status >= 400;
}

function latenciesUs(outcomes: readonly Outcome[]): number[] {
  return outcomes.flatMap((o) => (o.kind === 'drop' ? [] : [micros(o.latencyMs)])).sort((a, b) => a - b);
}

/** HDR (3 digits) reports the top of the value's bucket: never below the exact value, at most 1/1024 above. */
function expectHdrCloseUs(actualUs: number | null, exactUs: number): void {
  expect(actualUs).not.toBeNull();
  expect(actualUs as number).toBeGreaterThanOrEqual(exactUs);
  expect(actualUs as number).toBeLessThanOrEqual(exactUs * (1 + 1 / 1024) + 1);
}

describe('per-request figures', () => {
  const outcomes = workload();
  const data = record(outcomes);

  it('counts every outcome of each request in the second it was sent, sealed or not, against brute force', () => {
    expect(data.requests.map((r) => r.name)).toEqual(['get-order', 'create-order', 'list']);
    // 60 s with a 13 s ring: most seconds were sealed into counters and percentiles while recording.
    REQUESTS.forEach((spec, op) => {
      const r = data.requests[op];
      if (!r) throw new Error('missing request');
      expect(r.seconds.count).toHaveLength(data.seconds.length);
      expect(r.late).toBe(0);
      for (let s = 0; s < data.seconds.length; s++) {
        const inside = outcomes.filter((o) => o.op === op && o.sendMs >= s * 1000 && o.sendMs < (s + 1) * 1000);
        const timed = inside.filter((o) => o.kind !== 'drop');
        expect(r.seconds.count[s], `${spec.name} second ${s}`).toBe(timed.length);
        expect(r.seconds.dropped[s]).toBe(inside.length - timed.length);
        expect(r.seconds.status5xx[s]).toBe(inside.filter((o) => o.kind === 'response' && o.status >= 500).length);
        expect(r.seconds.transportErrors[s]).toBe(inside.filter((o) => o.kind === 'error').length);
        expect(r.seconds.unexpected[s]).toBe(inside.filter((o) => isUnexpected(o, spec)).length);
        const exact = latenciesUs(inside);
        if (exact.length === 0) {
          expect(r.seconds.p95Us[s]).toBe(0);
          continue;
        }
        expectHdrCloseUs(r.seconds.p50Us[s] ?? null, brutePercentile(exact, 50));
        expectHdrCloseUs(r.seconds.p95Us[s] ?? null, brutePercentile(exact, 95));
        expectHdrCloseUs(r.seconds.p99Us[s] ?? null, brutePercentile(exact, 99));
      }
    });
  });

  it('gives per-request per-phase counts and percentiles that agree with brute force', () => {
    REQUESTS.forEach((spec, op) => {
      const r = data.requests[op];
      expect(r?.phases).toHaveLength(phases.length);
      for (const p of r?.phases ?? []) {
        const span = phases[p.index];
        if (!span) throw new Error('missing span');
        const last = p.index === phases.length - 1;
        const inside = outcomes.filter((o) => o.op === op && o.sendMs >= span.startMs && (last || o.sendMs < span.endMs));
        const exact = latenciesUs(inside);
        expect(p.count).toBe(exact.length);
        expect(p.arrivals).toBe(inside.length);
        expect(p.unexpected).toBe(inside.filter((o) => isUnexpected(o, spec)).length);
        expect(p.status5xx).toBe(inside.filter((o) => o.kind === 'response' && o.status >= 500).length);
        expect(p.transportErrors.total).toBe(inside.filter((o) => o.kind === 'error').length);
        expectHdrCloseUs(p.p50Ms === null ? null : p.p50Ms * 1000, brutePercentile(exact, 50));
        expectHdrCloseUs(p.p95Ms === null ? null : p.p95Ms * 1000, brutePercentile(exact, 95));
        expectHdrCloseUs(p.p99Ms === null ? null : p.p99Ms * 1000, brutePercentile(exact, 99));
      }
    });
  });

  it('selects one request over fault+recovery: merged losslessly, the same as brute force', () => {
    const sel = selectRequest(data, 'create-order', ['fault', 'recovery']);
    const from = phases.find((p) => p.phase === 'fault')?.startMs ?? 0;
    const to = phases.find((p) => p.phase === 'recovery')?.endMs ?? 0;
    const inside = outcomes.filter((o) => o.op === 1 && o.sendMs >= from && o.sendMs < to);
    const exact = latenciesUs(inside);
    expect(sel?.count).toBe(exact.length);
    expect(sel?.transportErrors.timeout).toBe(inside.filter((o) => o.kind === 'error').length);
    expect(sel?.transportErrors.timeout).toBeGreaterThan(50);
    expectHdrCloseUs((sel?.p99Ms ?? 0) * 1000, brutePercentile(exact, 99));
    expect(sel?.durationMs).toBe(to - from);
    expect(selectRequest(data, 'no-such-request', ['fault'])).toBeUndefined();
  });

  it('keeps the totals: every request together is the timeline, unexpected counted in both', () => {
    for (const w of data.seconds) {
      expect(data.requests.reduce((sum, r) => sum + (r.seconds.count[w.index] ?? 0), 0)).toBe(w.count);
      expect(data.requests.reduce((sum, r) => sum + (r.seconds.unexpected[w.index] ?? 0), 0)).toBe(w.unexpected);
    }
    const unexpected = outcomes.filter((o) => isUnexpected(o, REQUESTS[o.op] as RequestSpec)).length;
    expect(data.phases.reduce((sum, p) => sum + p.unexpected, 0)).toBe(unexpected);
    expect(unexpected).toBeGreaterThan(1000);
  });

  it('without request names: totals only, a status of 400 and above (below 500) is unexpected', () => {
    const plain = record(outcomes, null);
    expect(plain.requests).toEqual([]);
    const unexpected = outcomes.filter((o) => o.kind === 'response' && o.status >= 400 && o.status < 500).length;
    expect(plain.seconds.reduce((sum, w) => sum + w.unexpected, 0)).toBe(unexpected);
    // An op the recorder has no name for is in the totals only.
    const rec = new TimelineRecorder({ phases, sloLatencyMs: 100, maxLatencyMs: 1000, requests: [{ name: 'a' }] });
    rec.response(5, 6_010, 10, 404);
    const snap = rec.snapshot();
    expect(snap.seconds[6]?.unexpected).toBe(1);
    expect(snap.requests[0]?.seconds.count[6]).toBe(0);
  });

  it('a snapshot is plain data: recording goes on, sealing later seconds, without changing it', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: 100, maxLatencyMs: MAX_LATENCY_MS, requests: REQUESTS });
    const half = outcomes.filter((o) => o.endMs < 30_000);
    feed(rec, half, (o) => (o as Tagged).op);
    const early = rec.snapshot();
    const before = Array.from(early.requests[0]?.seconds.count ?? []);
    const p95Before = Array.from(early.requests[0]?.seconds.p95Us ?? []);
    feed(rec, outcomes.filter((o) => o.endMs >= 30_000), (o) => (o as Tagged).op);
    expect(Array.from(early.requests[0]?.seconds.count ?? [])).toEqual(before);
    expect(Array.from(early.requests[0]?.seconds.p95Us ?? [])).toEqual(p95Before);
    const late = rec.snapshot();
    expect(Array.from(late.requests[0]?.seconds.count ?? [])).toEqual(Array.from(data.requests[0]?.seconds.count ?? []));
    expect(Array.from(late.requests[1]?.seconds.p99Us ?? [])).toEqual(Array.from(data.requests[1]?.seconds.p99Us ?? []));
  });

  it('an outcome that reaches a sealed second is counted there and as late; its phase stays exact', () => {
    const rec = new TimelineRecorder({ phases, sloLatencyMs: 100, maxLatencyMs: 1_000, requests: [{ name: 'a' }] });
    // maxLatency 1 s: a ring of 4 seconds. Second 6, then second 22 seals it (the same ring slot: 6 ≡ 22 mod 4).
    rec.response(0, 6_105, 5, 200);
    rec.response(0, 6_205, 7, 200);
    rec.response(0, 22_005, 5, 200);
    // Sent at 6.5 s, answered 15.5 s later (beyond the maximum latency): second 6 is sealed.
    rec.response(0, 22_000, 15_500, 404);
    const r = rec.snapshot().requests[0];
    expect(r?.seconds.count[6]).toBe(3);
    expect(r?.seconds.unexpected[6]).toBe(1);
    expect(r?.late).toBe(1);
    // Sealed percentiles are those of the outcomes it held (7 ms), not the late one's.
    expect(r?.seconds.p99Us[6]).toBeGreaterThanOrEqual(7000);
    expect(r?.seconds.p99Us[6]).toBeLessThan(7010);
    const baseline = r?.phases[1];
    expect(baseline?.count).toBe(3);
    expect(baseline?.unexpected).toBe(1);
    expect(baseline?.maxMs).toBe(1000); // clamped to the histogram's range, as the totals are
  });

  it('refuses bad request specs with a precise error', () => {
    const make = (requests: RequestSpec[]) => () => new TimelineRecorder({ phases, sloLatencyMs: 100, maxLatencyMs: 1000, requests });
    expect(make([{ name: 'a' }, { name: 'a' }])).toThrow('requests[1].name: expected a name used once, found "a" again');
    expect(make([{ name: '' }])).toThrow('requests[0].name: expected a non-empty name');
    expect(make([{ name: 'a', expectedStatuses: [200, 700] }])).toThrow('requests[0].expectedStatuses: expected HTTP statuses 100-599, found 700');
  });
});
