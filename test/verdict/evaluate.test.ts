import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import type { TimelineData } from '../../harness/timeline/types.js';
import { evaluate } from '../../harness/verdict/evaluate.js';
import { measureFaultRtos } from '../../harness/verdict/rto.js';
import type { RunFacts } from '../../harness/verdict/types.js';
import type { Outcome, Service } from '../timeline/synthetic.js';
import { brutePercentile, feed, generate, healthy, http503, micros, outage, refused } from '../timeline/synthetic.js';
import { check, planWith, podKill } from './plan-fixture.js';

const base = planWith([]);

function record(outcomes: Outcome[], plan = base): TimelineData {
  const rec = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: plan.slo.latencyP95Ms, maxLatencyMs: 10_000 });
  feed(rec, outcomes);
  return rec.snapshot();
}

function facts(timeline: TimelineData, events: JournalEvent[] = [], plan = base): RunFacts {
  return { timeline, events, rtos: measureFaultRtos(plan, timeline, events) };
}

function event(atMs: number, type: string, target: string, extra: Partial<JournalEvent> = {}): JournalEvent {
  return { atMs, wallMs: atMs, source: 'platform', type, target, ...extra };
}

/** Slow baseline (200–400 ms), fast everywhere else (3–7 ms). */
const slowBaseline: Service = (s, rnd) => (s >= 5_000 && s < 20_000 ? { kind: 'response', status: 200, latencyMs: 200 + 200 * rnd() } : healthy(s, rnd));

describe('evaluate: latency over the phases a check names', () => {
  const outcomes = generate({ ratePerSec: 200, toMs: 60_000, seed: 4, service: slowBaseline });
  const timeline = record(outcomes);
  const exactP95 = (from: number, to: number) =>
    brutePercentile(
      outcomes.flatMap((o) => (o.kind !== 'drop' && o.sendMs >= from && o.sendMs < to ? [micros(o.latencyMs)] : [])).sort((a, b) => a - b),
      95,
    ) / 1000;

  it('gives a slow baseline p95 and a fast fault+recovery p95, each judged on its own', () => {
    const plan = planWith([
      check({ id: 'base', metric: 'latency.p95', during: ['baseline'], comparator: '<', threshold: 100 }),
      check({ id: 'fault', metric: 'latency.p95', during: ['fault', 'recovery'], comparator: '<', threshold: 100 }),
    ]);
    const v = evaluate(plan, facts(timeline));
    const [b, f] = v.checks;
    expect(b?.actual).toBeCloseTo(exactP95(5_000, 20_000), 0);
    expect(b?.actual).toBeGreaterThan(300);
    expect(b?.passed).toBe(false);
    expect(f?.actual).toBeCloseTo(exactP95(20_000, 35_000), 1);
    expect(f?.actual).toBeLessThan(10);
    expect(f?.passed).toBe(true);
    expect(f?.unit).toBe('ms');
    expect(v).toMatchObject({ status: 'failed', passed: false });
  });

  it('measures throughput as responses per second of the selected phases', () => {
    const plan = planWith([check({ metric: 'throughput.rps', during: ['after'], comparator: '>=', threshold: 190 })]);
    const [c] = evaluate(plan, facts(timeline)).checks;
    const responses = outcomes.filter((o) => o.sendMs >= 35_000).length;
    expect(c?.actual).toBeCloseTo(responses / 25, 9);
    expect(c).toMatchObject({ unit: 'rps', passed: true });
  });
});

describe('evaluate: requests and RTO', () => {
  const service = outage(outage(healthy, 20_000, 21_000, refused), 21_000, 21_400, http503);
  const outcomes = generate({ ratePerSec: 500, toMs: 60_000, seed: 9, service });
  const timeline = record(outcomes);
  const inFault = outcomes.filter((o) => o.sendMs >= 20_000 && o.sendMs < 35_000);
  const errors = inFault.filter((o) => o.kind === 'error').length;
  const fives = inFault.filter((o) => o.kind === 'response' && o.status >= 500).length;
  const journal = [event(20_000, 'replica.killed', 'r1', { source: 'fault', fault: 'kill' }), event(27_500, 'replica.ready', 'r4', { detail: { replaces: 'r1' } })];

  it('counts 5xx, transport errors and failures apart, and the failure ratio over all outcomes', () => {
    const plan = planWith([
      check({ metric: 'requests.status5xx', comparator: '==', threshold: 0 }),
      check({ metric: 'requests.transportErrors', comparator: '<=', threshold: 1_000 }),
      check({ metric: 'requests.failures', comparator: '<', threshold: 10 }),
      check({ metric: 'requests.failureRatio', comparator: '<', threshold: 0.1 }),
    ]);
    const v = evaluate(plan, facts(timeline, journal, plan));
    expect(v.checks.map((c) => [c.actual, c.passed])).toEqual([
      [fives, false],
      [errors, true],
      [fives + errors, false],
      [(fives + errors) / inFault.length, true],
    ]);
    expect(fives).toBeGreaterThan(100);
    expect(v.checks.map((c) => c.unit)).toEqual(['count', 'count', 'count', 'ratio']);
  });

  it('judges the platform and client RTOs of the faults', () => {
    const plan = planWith([
      check({ metric: 'rto.platform', comparator: '<', threshold: 30_000, targetText: '< 30s' }),
      check({ metric: 'rto.client', comparator: '<', threshold: 1_000 }),
    ]);
    const v = evaluate(plan, facts(timeline, journal, plan));
    const [platform, client] = v.checks;
    expect(platform).toMatchObject({ actual: 7_500, passed: true, target: '< 30s', unit: 'ms' });
    expect(Math.abs((client?.actual ?? Infinity) - 1_400)).toBeLessThanOrEqual(100);
    expect(client?.passed).toBe(false);
  });

  it('takes the worst RTO over several faults and fails an unrecovered one with the reason', () => {
    const plan = planWith([check({ metric: 'rto.platform', comparator: '<', threshold: 30_000 })], [podKill('kill', 20_000), podKill('again', 40_000)]);
    const both = [...journal, event(40_000, 'replica.killed', 'r2', { fault: 'again' }), event(49_000, 'replica.ready', 'r5', { detail: { replaces: 'r2' } })];
    expect(evaluate(plan, facts(timeline, both, plan)).checks[0]).toMatchObject({ actual: 9_000, passed: true });
    const lost = evaluate(plan, facts(timeline, [...journal, event(40_000, 'replica.killed', 'r2', { fault: 'again' })], plan));
    expect(lost.checks[0]).toMatchObject({ actual: null, passed: false });
    expect(lost.checks[0]?.detail).toContain('again: not recovered');
  });

  it('fails an RTO check in a scenario without faults, saying so', () => {
    const plan = planWith([check({ metric: 'rto.client', comparator: '<', threshold: 30_000 })], []);
    const [c] = evaluate(plan, facts(record(generate({ ratePerSec: 100, toMs: 60_000, service: healthy }), plan), [], plan)).checks;
    expect(c).toMatchObject({ actual: null, passed: false, detail: 'no fault in scenario' });
  });
});

describe('evaluate: verdict status', () => {
  const timeline = record(generate({ ratePerSec: 100, toMs: 60_000, service: healthy }));
  const plan = planWith([check({ metric: 'requests.failures', comparator: '==', threshold: 0 })]);

  it('passes when every check passes, and is aborted (not passed) when a guard aborted the run', () => {
    expect(evaluate(plan, facts(timeline))).toMatchObject({ status: 'passed', passed: true });
    const aborted = evaluate(plan, { ...facts(timeline), aborted: true });
    expect(aborted).toMatchObject({ status: 'aborted', passed: false });
    expect(aborted.checks[0]?.passed).toBe(true);
  });

  it('fails a latency check with no response in its phases', () => {
    const empty = record([]);
    const v = evaluate(planWith([check({ metric: 'latency.p99', comparator: '<', threshold: 500 })]), facts(empty));
    expect(v.checks[0]).toMatchObject({ actual: null, passed: false, detail: 'no outcome during fault+recovery' });
  });
});
