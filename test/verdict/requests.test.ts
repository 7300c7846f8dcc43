import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../harness/core/errors.js';
import { planFromText } from '../../harness/scenario/index.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { evaluate } from '../../harness/verdict/evaluate.js';
import { measureFaultRtos } from '../../harness/verdict/rto.js';
import type { Outcome, Service } from '../timeline/synthetic.js';
import { brutePercentile, feed, generate, micros } from '../timeline/synthetic.js';
import { check, planWith } from './plan-fixture.js';

/**
 * Two requests: `get-order` fast (3–7 ms, 200), `create-order` slow (300–400 ms) and answered 200
 * where it expects 201 in one response of five. Creates are 3 % of the traffic, so the run's p95
 * is fast: only a check on create-order sees it.
 */
const getOrder: Service = (_s, rnd) => ({ kind: 'response', status: 200, latencyMs: 3 + 4 * rnd() });
const createOrder: Service = (_s, rnd) => ({ kind: 'response', status: rnd() < 0.2 ? 200 : 201, latencyMs: 300 + 100 * rnd() });
const REQUESTS = [{ name: 'get-order', expectedStatuses: [200] }, { name: 'create-order', expectedStatuses: [201] }];

type Tagged = Outcome & { op: number };
const outcomes: Tagged[] = [
  ...generate({ ratePerSec: 485, toMs: 60_000, seed: 3, service: getOrder }).map((o) => ({ ...o, op: 0 })),
  ...generate({ ratePerSec: 15, toMs: 60_000, seed: 4, service: createOrder }).map((o) => ({ ...o, op: 1 })),
].sort((a, b) => a.endMs - b.endMs);

function judge(checks: ReturnType<typeof check>[]) {
  const plan = planWith(checks);
  const rec = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: plan.slo.latencyP95Ms, maxLatencyMs: 10_000, requests: REQUESTS });
  feed(rec, outcomes, (o) => (o as Tagged).op);
  const timeline = rec.snapshot();
  return evaluate(plan, { timeline, events: [], rtos: measureFaultRtos(plan, timeline, []) });
}

const inFaultRecovery = (o: Tagged): boolean => o.sendMs >= 20_000 && o.sendMs < 35_000;

describe('checks on one request (request: <name>)', () => {
  const verdict = judge([
    check({ id: 'ALL-p95', metric: 'latency.p95', comparator: '<', threshold: 100 }),
    check({ id: 'CREATE-p95', metric: 'latency.p95', comparator: '<', threshold: 100, request: 'create-order' }),
    check({ id: 'GET-p95', metric: 'latency.p95', comparator: '<', threshold: 100, request: 'get-order' }),
    check({ id: 'CREATE-unexpected', metric: 'requests.unexpected', comparator: '==', threshold: 0, request: 'create-order' }),
    check({ id: 'GET-unexpected', metric: 'requests.unexpected', comparator: '==', threshold: 0, request: 'get-order' }),
    check({ id: 'ALL-unexpected', metric: 'requests.unexpected', comparator: '==', threshold: 0 }),
    check({ id: 'CREATE-rps', metric: 'throughput.rps', comparator: '>', threshold: 0, request: 'create-order' }),
    check({ id: 'NOPE', metric: 'latency.p95', comparator: '<', threshold: 100, request: 'no-such' }),
  ]);
  const byId = (id: string) => verdict.checks.find((c) => c.id === id);

  it('judges latency of that request alone, equal to brute force over its outcomes', () => {
    expect(byId('ALL-p95')?.passed).toBe(true);
    const creates = outcomes.flatMap((o) => (o.op === 1 && inFaultRecovery(o) && o.kind !== 'drop' ? [micros(o.latencyMs)] : [])).sort((a, b) => a - b);
    const exact = brutePercentile(creates, 95) / 1000;
    const create = byId('CREATE-p95');
    expect(create?.passed).toBe(false);
    expect(create?.request).toBe('create-order');
    expect(create?.actual).toBeGreaterThanOrEqual(exact);
    expect(create?.actual).toBeLessThanOrEqual(exact * (1 + 1 / 1024) + 0.001);
    expect(create?.detail).toContain(`over ${creates.length} outcomes`);
    expect(byId('GET-p95')?.passed).toBe(true);
  });

  it('counts unexpected statuses per request and in all', () => {
    const unexpected = outcomes.filter((o) => o.op === 1 && inFaultRecovery(o) && o.kind === 'response' && o.status === 200).length;
    expect(unexpected).toBeGreaterThan(10);
    expect(byId('CREATE-unexpected')?.actual).toBe(unexpected);
    expect(byId('GET-unexpected')?.actual).toBe(0);
    expect(byId('ALL-unexpected')?.actual).toBe(unexpected);
    expect(byId('CREATE-rps')?.actual).toBeCloseTo(outcomes.filter((o) => o.op === 1 && inFaultRecovery(o)).length / 15, 9);
  });

  it('a request the run did not record is not measured: the check fails with the reason', () => {
    expect(byId('NOPE')).toMatchObject({ actual: null, passed: false, detail: 'no figures recorded for request no-such' });
  });
});

describe('scenario validation of request:', () => {
  const scenario = (checkLine: string): string[] => {
    const text = `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: req }
spec:
  duration: 30s
  faults:
    - { name: kill, kind: pod-kill, at: 10s, duration: 5s }
  checks:
    - ${checkLine}
`;
    const r = planFromText(text, { file: 'x.yaml', env: {} });
    return r.problems ? r.problems.map(formatProblem) : [];
  };

  it('accepts the name of a workload request, and requests.unexpected', () => {
    expect(scenario('{ id: G-1, name: p95 of get, metric: latency.p95, request: get, target: "< 300ms" }')).toEqual([]);
    expect(scenario('{ id: U-1, name: no unexpected, metric: requests.unexpected, target: "== 0" }')).toEqual([]);
    const plan = planFromText(`
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: req }
spec:
  duration: 30s
  checks: [{ id: G-1, name: p95 of get, metric: latency.p95, request: get, target: "< 300ms" }]
`, { env: {} }).plan;
    expect(plan?.checks[0]?.request).toBe('get');
  });

  it('refuses an unknown name, naming the workload requests', () => {
    const problems = scenario('{ id: G-1, name: p95, metric: latency.p95, request: get-order, target: "< 300ms" }');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/spec\.checks\[0\]\.request.*the name of a workload request \(get, .*\).*"get-order"/);
  });

  it('refuses request: on a metric that is not about requests', () => {
    const problems = scenario('{ id: R-1, name: rto, metric: rto.client, request: get, target: "< 30s" }');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/spec\.checks\[0\]\.request.*requests\.\*, latency\.\* and throughput\.rps/);
  });
});
