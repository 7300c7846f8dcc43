import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planFromText } from '../../harness/scenario/index.js';
import { promqlSyntaxError } from '../../harness/scenario/promql.js';

describe('PromQL parsed with the Prometheus grammar', () => {
  it('accepts the seed\'s expressions and $__window; places the first error', () => {
    expect(promqlSyntaxError('sum(increase(task_api_requests_total{status=~"5.."}[$__window]))')).toBeUndefined();
    expect(promqlSyntaxError('histogram_quantile(0.95, sum(rate(task_api_request_duration_seconds_bucket[5m])) by (le))*1000')).toBeUndefined();
    expect(promqlSyntaxError('sum(rate(x[5m])')).toEqual({ line: 1, column: 16, near: 'the end of the expression' });
    expect(promqlSyntaxError('sum(rat(x[5m]))')).toEqual({ line: 1, column: 8, near: '"(x[5m]))"' });
    expect(promqlSyntaxError('sum(\n  increase(x[$__windw]))')).toMatchObject({ line: 2, column: 14 });
  });
});

describe('promql checks at validation', () => {
  const base = readFileSync('test/scenarios/prom-5xx.yaml', 'utf8');
  it('plans the shipped test scenario\'s checks with their queries', () => {
    const r = planFromText(base, { env: {} });
    expect(r.problems).toBeUndefined();
    expect(r.plan?.checks.find((c) => c.id === 'SC-009s')).toMatchObject({ metric: 'promql', query: 'sum(increase(task_api_requests_total{status=~"5.."}[$__window]))', comparator: '==', threshold: 0 });
  });
  it('refuses a query without promql, promql without a query, and promql against spec.target', () => {
    const text = [
      'apiVersion: gameday.dev/v1alpha1',
      'kind: Scenario',
      'metadata: { name: ext }',
      'spec:',
      '  duration: 10s',
      '  warmup: 1s',
      '  target: { url: "http://127.0.0.1:9" }',
      '  load: { model: open, rate: 5 }',
      '  checks:',
      '    - { id: P, name: p, metric: promql, during: [baseline], target: "== 0", query: up }',
      '    - { id: Q, name: q, metric: latency.p95, during: [baseline], target: "< 1s", query: up }',
      '    - { id: R, name: r, metric: promql, during: [baseline], target: "== 0" }',
    ].join('\n');
    const r = planFromText(text, { env: {} });
    expect(r.problems?.map((p) => `${p.path}: ${p.found}`)).toEqual([
      'spec.checks[0].metric: spec.target',
      'spec.checks[1].query: a query with latency.p95',
      'spec.checks[2].query: nothing',
    ]);
  });
});
