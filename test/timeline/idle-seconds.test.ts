import { describe, expect, it } from 'vitest';
import { idleSeconds, RampCurve } from '../../harness/load/arrivals.js';
import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { LoadPlan, RampStage } from '../../harness/load/types.js';
import { clientRtoMs, detectDisruptions } from '../../harness/timeline/disruption.js';
import { sustainedHealthyRun } from '../../harness/timeline/client-rto.js';
import { windowHealth } from '../../harness/timeline/health.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { TimelineData } from '../../harness/timeline/types.js';
import type { Outcome, Service } from './synthetic.js';
import { feed, healthy, outage, phasesOf, prng, refused } from './synthetic.js';

/**
 * Seconds in which a ramping load planned no arrival (rate 0, or between the rare arrivals of a slow
 * ramp) have no outcome by design: they prove nothing, so they are neither healthy nor unhealthy.
 * Timelines are built from the ramp's own arrival times (RampCurve, as the scheduler sends them),
 * each answered by a service that is a function of the send time: the truth is known by construction.
 */
const SLO = { latencyP95Ms: 500 };
const SUSTAIN_MS = 3_000;

function rampLoad(startRatePerSec: number, stages: RampStage[]): LoadPlan {
  return { model: 'ramping', startRatePerSec, stages, connections: 4, maxInFlight: 1_000, timeoutMs: 1_000, workload: taskApiWorkload([{ op: 'get', weight: 1 }]), seed: 1 };
}

/** Every planned arrival of the ramp (intended times, on the load's clock shifted by `offsetMs`), answered by `service`. */
function rampOutcomes(load: LoadPlan, service: Service, offsetMs = 0): Outcome[] {
  if (load.model !== 'ramping') throw new Error('a ramping load');
  const curve = new RampCurve(load.startRatePerSec, load.stages);
  const rnd = prng(7);
  const out: Outcome[] = [];
  for (let k = 0; k < 1_000_000; k++) {
    const t = curve.timeOf(k + 1);
    if (!Number.isFinite(t)) break;
    const sendMs = offsetMs + t;
    const answer = service(sendMs, rnd);
    out.push({ ...answer, sendMs, endMs: answer.kind === 'drop' ? sendMs : sendMs + answer.latencyMs });
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

/** The run's timeline: phases over `durationMs` (warm-up 0 unless given), with the idle seconds as the run marks them. */
function rampTimeline(load: LoadPlan, service: Service, durationMs: number, opts: { faultAtMs?: number; warmupMs?: number; offsetMs?: number } = {}): TimelineData {
  const faults = opts.faultAtMs === undefined ? [] : [{ name: 'kill', atMs: opts.faultAtMs, durationMs: 2_000 }];
  const rec = new TimelineRecorder({ phases: phasesOf(durationMs, opts.warmupMs ?? 0, faults, 5_000), sloLatencyMs: SLO.latencyP95Ms, maxLatencyMs: 10_000 });
  feed(rec, rampOutcomes(load, service, opts.offsetMs ?? 0));
  const data = rec.snapshot();
  return { ...data, idle: idleSeconds(load, opts.offsetMs ?? 0, data.seconds.length) };
}

/** The same timeline as the code before idle seconds saw it. */
function withoutIdle(data: TimelineData): TimelineData {
  const { idle: _idle, ...rest } = data;
  return rest;
}

describe('idle seconds: which seconds a ramp plans no arrival in, on the run clock', () => {
  it('a slow ramp from 0/s (N = t²/20): the seconds without an arrival, also with the load started 300 ms after the zero', () => {
    const load = rampLoad(0, [{ toPerSec: 2, overMs: 20_000 }]);
    // Arrival n at t = √(20 n) s: 4.47, 6.32, 7.75, 8.94, 10, 10.95, 11.83, 12.65, 13.42, 14.14, 14.83, 15.49, 16.12, 16.73, 17.32, 17.89, 18.44, 18.97, 19.49, 20 s.
    // Second 20 holds only the last, at 20 s exactly: within 20 ms of its edge, not trusted to fall inside it.
    expect(idleSeconds(load, 0, 21)).toEqual([0, 1, 2, 3, 5, 9, 20]);
    // 300 ms later on the run clock: 4.77, 6.62, 8.05, 9.24, 10.3…; the 20th at 20.3 s.
    expect(idleSeconds(load, 300, 22)).toEqual([0, 1, 2, 3, 5, 7, 21]);
  });

  it('none for the open model at a constant rate nor the closed model', () => {
    const open: LoadPlan = { model: 'open', ratePerSec: 0.5, connections: 1, maxInFlight: 1, timeoutMs: 1_000, workload: taskApiWorkload(), seed: 1 };
    const closed: LoadPlan = { model: 'closed', connections: 1, timeoutMs: 1_000, workload: taskApiWorkload(), seed: 1 };
    expect(idleSeconds(open, 0, 30)).toEqual([]);
    expect(idleSeconds(closed, 0, 30)).toEqual([]);
  });
});

describe('idle seconds are neither healthy nor unhealthy', () => {
  it('a ramp from 0/s whose first arrival is at 4.47 s: no disruption for its quiet seconds (before: 0–3 s, 5 s and 9 s)', () => {
    const load = rampLoad(0, [{ toPerSec: 2, overMs: 20_000 }, { toPerSec: 20, overMs: 0 }, { toPerSec: 20, overMs: 10_000 }]);
    const data = rampTimeline(load, healthy, 30_000);
    expect(windowHealth(data).slice(0, 11)).toEqual([null, null, null, null, true, null, true, true, true, null, true]);
    expect(detectDisruptions(data, SLO)).toEqual([]);
    const before = detectDisruptions(withoutIdle(data), SLO).map((d) => [d.firstWindow, d.lastWindow]);
    expect(before).toEqual([[0, 3], [5, 5], [9, 9]]);
  });

  it('a ramp down to 0 at the end (its last arrival at the end exactly): no disruption at the end', () => {
    // 20/s for 10 s, then 2/s → 0 over 20 s: N = 2τ − τ²/20 after 10 s; arrival 19 at τ = 15.53 s, the 20th at τ = 20 s (30 s).
    const load = rampLoad(20, [{ toPerSec: 20, overMs: 10_000 }, { toPerSec: 2, overMs: 0 }, { toPerSec: 0, overMs: 20_000 }]);
    const data = rampTimeline(load, healthy, 30_000, { warmupMs: 2_000 });
    expect(data.idle).toEqual(expect.arrayContaining([26, 27, 28, 29]));
    expect(detectDisruptions(data, SLO)).toEqual([]);
    expect(detectDisruptions(withoutIdle(data), SLO).map((d) => [d.firstWindow, d.lastWindow])).toContainEqual([26, 29]);
  });

  it('a real outage inside a ramp is still found, with the same RTO (3000 ms of refused connections)', () => {
    // 0 → 1/s over 5 s (N = t²/10: arrivals at 3.16 s and 4.47 s), → 200/s over 5 s, 200/s for 20 s, → 0 over 10 s.
    const load = rampLoad(0, [{ toPerSec: 1, overMs: 5_000 }, { toPerSec: 200, overMs: 5_000 }, { toPerSec: 200, overMs: 20_000 }, { toPerSec: 0, overMs: 10_000 }]);
    const data = rampTimeline(load, outage(healthy, 20_345, 23_345, refused), 40_000, { faultAtMs: 20_345 });
    expect(data.idle?.filter((i) => i < 40)).toEqual([0, 1, 2]);
    expect(detectDisruptions(withoutIdle(data), SLO).map((d) => d.firstWindow)).toEqual([0, 20]);
    const found = detectDisruptions(data, SLO);
    expect(found).toHaveLength(1);
    expect(Math.abs((found[0]?.startMs ?? 0) - 20_345)).toBeLessThanOrEqual(100);
    expect(Math.abs((found[0]?.endMs ?? 0) - 23_345)).toBeLessThanOrEqual(100);
    const rto = clientRtoMs(data, 20_345, SLO, SUSTAIN_MS);
    expect(rto.recovered).toBe(true);
    expect(Math.abs((rto.rtoMs ?? Infinity) - 3_000)).toBeLessThanOrEqual(100);
    expect(rto).toEqual(clientRtoMs(withoutIdle(data), 20_345, SLO, SUSTAIN_MS));
  });

  it('quiet seconds after a fault do not delay recovery: RTO 0 when clients met no disruption (before: until the rate came back)', () => {
    // 20/s, then 0/s from 11 s to 14 s, then 20/s again; a fault at 10.5 s that nobody felt.
    const load = rampLoad(20, [{ toPerSec: 20, overMs: 11_000 }, { toPerSec: 0, overMs: 0 }, { toPerSec: 0, overMs: 3_000 }, { toPerSec: 20, overMs: 0 }, { toPerSec: 20, overMs: 16_000 }]);
    const data = rampTimeline(load, healthy, 30_000, { faultAtMs: 10_500, warmupMs: 2_000 });
    expect(data.idle?.filter((i) => i < 30)).toEqual([11, 12, 13]); // 30: the last arrival, at 30 s exactly, after the run
    const rto = clientRtoMs(data, 10_500, SLO, SUSTAIN_MS);
    // The 220th arrival is at 11 s exactly: second 11 saw it (healthy), and the healthy run goes on across the quiet.
    expect(rto).toMatchObject({ recovered: true, rtoMs: 0, healthyFromMs: 11_000 });
    expect(detectDisruptions(data, SLO)).toEqual([]);
    const before = clientRtoMs(withoutIdle(data), 10_500, SLO, SUSTAIN_MS);
    expect(before.rtoMs).toBeGreaterThanOrEqual(3_500);
  });

  // As before idle seconds (which judged them unhealthy): were a quiet second taken for a healthy one, it would split the outage in two.
  it('an idle second inside an outage neither splits nor ends it: one disruption 10 s → 15 s, recovered at 15 s', () => {
    // 20/s, refused from 10 s to 15 s; the rate is 0 from 12 s to 14 s, in the middle of the outage.
    const load = rampLoad(20, [{ toPerSec: 20, overMs: 12_000 }, { toPerSec: 0, overMs: 0 }, { toPerSec: 0, overMs: 2_000 }, { toPerSec: 20, overMs: 0 }, { toPerSec: 20, overMs: 16_000 }]);
    const data = rampTimeline(load, outage(healthy, 10_000, 15_000, refused), 30_000, { faultAtMs: 10_000, warmupMs: 2_000 });
    expect(data.idle?.filter((i) => i < 30)).toEqual([12, 13]);
    const found = detectDisruptions(data, SLO);
    expect(found.map((d) => [d.firstWindow, d.lastWindow])).toEqual([[10, 14]]);
    expect(Math.abs((found[0]?.startMs ?? 0) - 10_000)).toBeLessThanOrEqual(60);
    expect(Math.abs((found[0]?.endMs ?? 0) - 15_000)).toBeLessThanOrEqual(60);
    const rto = clientRtoMs(data, 10_000, SLO, SUSTAIN_MS);
    expect(Math.abs((rto.rtoMs ?? Infinity) - 5_000)).toBeLessThanOrEqual(60);
    expect(rto.healthyFromMs).toBe(15_000);
  });

  it('a silent outage second (no answer although arrivals were planned) followed by idle seconds ends where the quiet begins', () => {
    // 20/s with every arrival from 10 s to 11 s lost (no outcome at all; the last one at 11 s exactly too), then 0/s from 11 s to 13 s.
    const load = rampLoad(20, [{ toPerSec: 20, overMs: 11_000 }, { toPerSec: 0, overMs: 0 }, { toPerSec: 0, overMs: 2_000 }, { toPerSec: 20, overMs: 0 }, { toPerSec: 20, overMs: 17_000 }]);
    const rec = new TimelineRecorder({ phases: phasesOf(30_000, 2_000, []), sloLatencyMs: SLO.latencyP95Ms, maxLatencyMs: 10_000 });
    feed(rec, rampOutcomes(load, healthy).filter((o) => o.sendMs < 10_000 || o.sendMs > 11_000));
    const snap = rec.snapshot();
    const data = { ...snap, idle: idleSeconds(load, 0, snap.seconds.length) };
    expect(data.idle?.filter((i) => i < 30)).toEqual([11, 12]);
    const [d, ...rest] = detectDisruptions(data, SLO);
    expect(rest).toEqual([]);
    // Not at 13 s, where outcomes came again: nothing was asked for in between.
    expect(d).toMatchObject({ firstWindow: 10, lastWindow: 10, endMs: 11_000 });
    const rto = clientRtoMs(data, 10_000, SLO, SUSTAIN_MS);
    expect(rto).toMatchObject({ recovered: true, healthyFromMs: 13_000 });
    expect(Math.abs((rto.rtoMs ?? Infinity) - 1_000)).toBeLessThanOrEqual(60);
  });
});

describe('sustainedHealthyRun skips idle seconds (null)', () => {
  it('they neither break nor extend a healthy run', () => {
    expect(sustainedHealthyRun([false, true, null, true, true], 0, 3)).toEqual({ start: 1, confirmed: true });
    expect(sustainedHealthyRun([false, null, null, true, true, true], 0, 3)).toEqual({ start: 3, confirmed: true });
    expect(sustainedHealthyRun([true, null, false, true, null, null], 0, 3)).toEqual({ start: 3, confirmed: false });
    expect(sustainedHealthyRun([false, null, null], 0, 1)).toBeNull();
    expect(sustainedHealthyRun([true, true, false, null, true], 0, 2)).toEqual({ start: 0, confirmed: true });
  });
});
