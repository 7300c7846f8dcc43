import { describe, expect, it } from 'vitest';
import { planFromText } from '../../harness/scenario/read.js';
import { DEFAULT_REGRESSION } from '../../harness/scenario/regression.js';

const scenario = (regression: string): string => `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: r }
spec:
  duration: 10s
  target: { url: "http://127.0.0.1:9" }
${regression}`;

describe('spec.regression (the gate\'s tolerances in the scenario)', () => {
  it('defaults when absent', () => {
    expect(planFromText(scenario(''), { env: {} }).plan?.regression).toEqual(DEFAULT_REGRESSION);
  });

  it('takes percentages, durations and counts; omitted fields keep their defaults', () => {
    const plan = planFromText(scenario(`  regression:
    latencyP95: { relative: 10% }
    rtoClient: { relative: 25%, absolute: 500ms }
    failures: { absolute: 5 }
    confidence: 0.99`), { env: {} }).plan;
    expect(plan?.regression?.tolerances['latency.p95']).toEqual({ relative: 0.1, absolute: 3 });
    expect(plan?.regression?.tolerances['rto.client']).toEqual({ relative: 0.25, absolute: 500 });
    expect(plan?.regression?.tolerances['requests.failures']).toEqual({ relative: 1, absolute: 5 });
    expect(plan?.regression?.tolerances['latency.p99']).toEqual(DEFAULT_REGRESSION.tolerances['latency.p99']);
    expect(plan?.regression?.confidence).toBe(0.99);
  });

  it('rejects unknown keys and malformed values, each with its path', () => {
    const r = planFromText(scenario(`  regression:
    latencyP95: { relative: "ten" }
    failures: { absolute: 1s }
    p50: { relative: 5% }
    confidence: 2`), { env: {} });
    const paths = (r.problems ?? []).map((p) => p.path).sort();
    expect(paths).toEqual(['spec.regression.confidence', 'spec.regression.failures.absolute', 'spec.regression.latencyP95.relative', 'spec.regression.p50']);
  });
});
