import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../harness/core/errors.js';
import { planFromFile, planFromText } from '../../harness/scenario/index.js';

const VALID = `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: ok }
spec:
  duration: 30s
  warmup: 2s
  faults:
    - { name: kill, kind: pod-kill, at: 10s, duration: 5s, mode: fixed, value: "2" }
`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  const r = planFromText(text, { file: 'x.yaml', env });
  return r.problems ? r.problems.map(formatProblem) : [];
}

describe('scenario validation', () => {
  it('turns a valid scenario into a frozen plan with defaults, ms units and phases', () => {
    const r = planFromText(VALID, { env: {} });
    expect(r.problems).toBeUndefined();
    const plan = r.plan!;
    expect(plan.durationMs).toBe(30_000);
    expect(plan.platform).toMatchObject({ kind: 'local', replicas: 3, database: { kind: 'embedded' }, pool: { size: 10, acquireTimeoutMs: 2000 } });
    expect(plan.faults[0]).toMatchObject({ kind: 'pod-kill', atMs: 10_000, durationMs: 5000, mode: 'fixed', value: 2 });
    expect(plan.load).toMatchObject({ model: 'closed', workload: { preset: 'task-api' } });
    expect(plan.load.workload.requests.map((r) => [r.name, r.weight])).toEqual([['get', 80], ['create', 10], ['update', 5], ['list', 5]]);
    expect(plan.checks.map((c) => [c.id, c.metric, c.comparator, c.threshold])).toEqual([
      ['SC-008', 'rto.platform', '<', 30_000],
      ['SC-009', 'requests.status5xx', '==', 0],
      ['SC-010', 'latency.p95', '<', 500],
    ]);
    expect(plan.phases.map((p) => [p.phase, p.startMs, p.endMs])).toEqual([
      ['warmup', 0, 2000],
      ['baseline', 2000, 10_000],
      ['fault', 10_000, 15_000],
      ['recovery', 15_000, 25_000],
      ['after', 25_000, 30_000],
    ]);
    expect(Object.isFrozen(plan.faults[0])).toBe(true);
  });

  it('reports every problem at once with its path, what was expected and what was found', () => {
    const found = problems(`
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: Bad_Name }
spec:
  duration: 10x
  bogus: 1
  load: { connections: "8" }
  faults: [{ name: z, kind: nuke, at: 2s }]
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^x\.yaml: metadata\.name: expected a DNS-1123 label.*found "Bad_Name"/),
        expect.stringMatching(/^x\.yaml: spec\.duration: expected a duration.*found "10x"/),
        'x.yaml: spec.bogus: expected no such key (unknown keys are rejected), found key "bogus"',
        'x.yaml: spec.load.connections: expected number, found "8"',
        'x.yaml: spec.faults[0].kind: expected one of "pod-kill", "network-delay", "pool-exhaustion", "exec", "http", "disaster-recovery", found "nuke"',
      ]),
    );
    expect(found).toHaveLength(5);
  });

  it('applies cross-field rules after the shape is right', () => {
    const base = VALID.replace('mode: fixed, value: "2"', 'mode: fixed, value: "7"');
    expect(problems(base)).toEqual(['x.yaml: spec.faults[0].value: expected a count between 1 and the 3 replicas, found 7']);
    expect(problems(VALID.replace('at: 10s, duration: 5s', 'at: 1s, duration: 5s'))).toEqual(['x.yaml: spec.faults[0].at: expected at or after the warm-up (2000ms), found 1000ms']);
    expect(problems(VALID.replace('duration: 5s', 'duration: 25s'))[0]).toMatch(/spec\.faults\[0\]\.duration: expected to end by spec\.duration/);
    const open = VALID.replace('warmup: 2s', 'warmup: 2s\n  load: { model: open }');
    expect(problems(open)).toEqual(['x.yaml: spec.load.rate: expected an arrival rate per second for model "open", found nothing']);
  });

  it('refuses non-loopback targets and platform faults against an existing service', () => {
    const external = VALID.replace('warmup: 2s', 'warmup: 2s\n  target: { url: "http://10.1.2.3:8000" }');
    const found = problems(external);
    expect(found).toContain('x.yaml: spec.target.url: expected a loopback host, or a host listed in spec.target.allowHosts / --allow-host, found 10.1.2.3');
    expect(found.some((p) => p.startsWith('x.yaml: spec.faults[0].kind: expected a fault that does not need a platform'))).toBe(true);
    expect(problems(VALID, { DATABASE_URL: 'postgres://u:p@db.example.com/x' })).toEqual([
      'x.yaml: env DATABASE_URL: expected a loopback database host (127.0.0.0/8, ::1, localhost), found db.example.com',
    ]);
  });

  it('parses check targets in the metric unit and rejects mismatched units', () => {
    const withChecks = (target: string, metric = 'latency.p95') => VALID + `  checks: [{ id: A, name: a, metric: ${metric}, target: "${target}" }]\n`;
    expect(planFromText(withChecks('<= 1.5s'), { env: {} }).plan!.checks[0]).toMatchObject({ comparator: '<=', threshold: 1500 });
    expect(planFromText(withChecks('< 1%', 'requests.failureRatio'), { env: {} }).plan!.checks[0]).toMatchObject({ threshold: 0.01 });
    expect(problems(withChecks('< 3%'))).toEqual(['x.yaml: spec.checks[0].target: expected a duration ("< 500ms", "< 30s"), found "< 3%"']);
    expect(problems(withChecks('about 3'))[0]).toMatch(/expected a comparison such as/);
  });

  it('points YAML syntax errors at their line', () => {
    expect(problems('spec: [a, b\nkind: x')[0]).toMatch(/^x\.yaml: line \d+, column \d+: expected valid YAML/);
  });

  it('accepts every scenario shipped in scenarios/', async () => {
    const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect((await planFromFile(`scenarios/${f}`, {})).problems).toBeUndefined();
  });
});
