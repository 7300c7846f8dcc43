import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceFacts } from '../../harness/conformance/run.js';
import { CONFORMANCE_CHECKS, defaultConformancePlan } from '../../harness/conformance/index.js';
import { MANIFESTS_DIR } from '../../harness/kube/templates.js';
import { renderSummary } from '../../harness/report/console.js';
import { renderOutputs } from '../../harness/report/outputs.js';
import { buildResult, type ResultDocument } from '../../harness/report/result.js';
import { verificationRows } from '../../harness/report/verification-summary.js';
import { analyse } from '../../harness/run/analyse.js';
import type { Plan } from '../../harness/scenario/plan.js';
import { planFromFile } from '../../harness/scenario/read.js';
import { regressionPlan } from '../../harness/scenario/regression.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';
import { feed, generate, healthy, outage, refused } from '../timeline/synthetic.js';
import { check, planWith, podKill } from '../verdict/plan-fixture.js';

// The ten-row Verification Summary from a run analysed as a real one is: conformance findings on
// manifests, a synthetic pod-kill timeline, every output format.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-summary-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KILL_AT = 20_000;

async function runWith(manifests: string): Promise<ResultDocument> {
  const checks = [
    ...CONFORMANCE_CHECKS.map((c) => check({ id: c.id, name: c.name, metric: c.metric, comparator: '==', threshold: 0, targetText: '== 0' })),
    check({ id: 'SC-008', name: 'Pod kill recovery time', metric: 'rto.platform', comparator: '<', threshold: 30_000, targetText: '< 30s' }),
    check({ id: 'SC-009', name: 'No 5xx during failure', metric: 'requests.status5xx', comparator: '==', threshold: 0, targetText: '== 0' }),
    check({ id: 'SC-010', name: 'P95 latency during recovery', metric: 'latency.p95', comparator: '<', threshold: 500, targetText: '< 500ms' }),
  ];
  const plan: Plan = { ...planWith(checks, [podKill('kill', KILL_AT)]), regression: regressionPlan(undefined), conformance: defaultConformancePlan({ manifests: [manifests] }) };
  const recorder = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: 500, maxLatencyMs: 10_000 });
  feed(recorder, generate({ ratePerSec: 100, toMs: plan.durationMs, seed: 1, service: outage(healthy, KILL_AT, KILL_AT + 200, refused) }));
  const e = (atMs: number, type: string, target?: string, detail?: object) => ({ atMs, wallMs: 1_800_000_000_000 + atMs, source: type.startsWith('fault') ? 'fault' : 'platform', type, ...(target ? { target } : {}), ...(type.startsWith('fault') || type === 'replica.killed' ? { fault: 'kill' } : {}), ...(detail ? { detail } : {}) });
  // Replica a killed, d replaces it and is ready 600 ms later: SC-008 = 600 ms.
  const events = [e(KILL_AT, 'fault.started'), e(KILL_AT, 'replica.killed', 'a'), e(KILL_AT + 5, 'fault.applied'), e(KILL_AT + 20, 'replica.started', 'd', { replaces: 'a' }), e(KILL_AT + 600, 'replica.ready', 'd')] as never;
  const conformance = await conformanceFacts(plan);
  const analysis = analyse(plan, recorder.snapshot(), events, { ...(conformance ? { conformance } : {}) });
  return buildResult(plan, analysis, 'completed', { command: 'gameday run opex.yaml', gitCommit: 'abc123', startedAt: '2027-01-01T00:00:00.000Z' });
}

describe('Verification Summary (SC-001..SC-010)', () => {
  it('ten rows: conformance from the manifests, SC-007 not evaluated without a drill, the Game Day for SC-008..SC-010; the verdict holds', async () => {
    const r = await runWith(MANIFESTS_DIR);
    expect(r.verdict, JSON.stringify(r.checks.filter((c) => !c.passed && !c.notEvaluated))).toBe('passed');
    const rows = verificationRows(r.checks);
    expect(rows.map((x) => `${x.id} ${x.status}`)).toEqual([
      'SC-001 PASS', 'SC-002 NOT EVALUATED', 'SC-003 NOT EVALUATED', 'SC-004 PASS', 'SC-005 PASS',
      'SC-006 PASS', 'SC-007 NOT EVALUATED', 'SC-008 PASS', 'SC-009 PASS', 'SC-010 PASS',
    ]);
    expect(rows[7]).toMatchObject({ criterion: 'Pod recovery time', target: '< 30s', actual: '600ms' });
    expect(rows[0]).toMatchObject({ criterion: 'Cost labels present', target: '4 labels (team, app, environment, cost-center) on every pod', actual: '4 labels' });
    expect(rows[4]).toMatchObject({ target: 'ttl 720h', actual: '720h' });
    expect(rows[6]).toMatchObject({ actual: 'not evaluated', note: 'no disaster-recovery drill in this run' });
    expect(rows[1]?.note).toMatch(/^needs OpenCost/);
  });

  it('renders the table in the console, Markdown, JUnit and HTML, a failure with its reason', async () => {
    const copy = join(dir, 'manifests');
    cpSync(MANIFESTS_DIR, copy, { recursive: true });
    const f = join(copy, 'task-api-vpa.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('updateMode: "Off"', 'updateMode: "Auto"'));
    const r = await runWith(copy);
    expect(r.verdict).toBe('failed');
    const vpaProblem = `VerticalPodAutoscaler production/task-api-vpa (${copy}/task-api-vpa.yaml#1): updateMode "Auto", expected "Off" (recommendations only, no restarts)`;

    const console = renderSummary(r);
    expect(console).toContain('Verification Summary (SC-001..SC-010): 7 passed, 1 failed, 2 not evaluated');
    for (const id of ['SC-001', 'SC-004', 'SC-007', 'SC-010']) expect(console).toContain(`${id}:`);
    expect(console).toMatch(/SC-007: Restore within RTO.*NOT EVALUATED/);

    const out = renderOutputs(r);
    const md = out['summary.md'];
    expect(md).toContain('### Verification Summary (SC-001..SC-010)');
    expect(md).toContain('| SC-007: Restore within RTO | 30 min | not evaluated (no disaster-recovery drill in this run) | ⚪ NOT EVALUATED |');
    expect(md).toContain(`| SC-003: VPA recommendations | updateMode "Off", bounds; a recommendation within 24h | 1 problem (${vpaProblem}) | ❌ FAIL |`);
    expect(md).toContain('| SC-005: 30-day retention | ttl 720h | 720h | ✅ PASS |');

    const junit = out['junit.xml'];
    const suite = junit.slice(junit.indexOf('<testsuite name="verification-summary"'));
    expect(suite).toMatch(/^<testsuite name="verification-summary" tests="10" failures="1" errors="0" skipped="2" time="0">/);
    expect(suite).toContain('<testcase classname="gameday.fixture.verification-summary" name="SC-007: Restore within RTO" time="0">\n      <skipped message="not evaluated: no disaster-recovery drill in this run"/>');
    expect(suite).toContain(`<failure message="target updateMode &quot;Off&quot;, bounds; a recommendation within 24h, actual 1 problem (${vpaProblem.replaceAll('"', '&quot;')})" type="SC-003">`);
    // The main suite: OpenCost not evaluated is skipped there too, not failed.
    expect(junit).toMatch(/<testcase classname="gameday\.fixture" name="SC-002: OpenCost query by team" time="0">\n\s+<skipped message="not evaluated: needs OpenCost/);

    const html = out['report.html'];
    const table = html.slice(html.indexOf('<table id="verification-summary">'), html.indexOf('</table>', html.indexOf('<table id="verification-summary">')));
    expect(table.match(/<tr><td>SC-0\d\d:/g)).toHaveLength(10);
    expect(table).toContain('<td>SC-007: Restore within RTO</td><td>30 min</td><td>not evaluated <span class="muted">(no disaster-recovery drill in this run)</span></td><td class="muted">NOT EVALUATED</td>');
    expect(table).toContain('<td class="fail">FAIL</td>');
  });

  it('shows no ten-row table for a run without conformance checks', async () => {
    const { syntheticResult } = await import('../report/fixture.js');
    const out = renderOutputs(syntheticResult());
    expect(out['summary.md']).not.toContain('Verification Summary (SC-001..SC-010)');
    expect(out['junit.xml']).not.toContain('verification-summary');
    expect(out['report.html']).not.toContain('id="verification-summary"');
  });

  it('scenarios/opex-spec.yaml judges the shipped manifests and renders the ten rows', async () => {
    const p = await planFromFile('scenarios/opex-spec.yaml', {});
    if (!('plan' in p) || !p.plan) throw new Error(JSON.stringify(p.problems));
    expect(p.plan.conformance).toMatchObject({ mode: 'static', manifests: [MANIFESTS_DIR.replace(/\/$/, '')] });
    // Every criterion of the seed has its check (SC-007: the disaster-recovery drill's).
    expect(p.plan.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['SC-001', 'SC-002', 'SC-003', 'SC-004', 'SC-005', 'SC-006', 'CHAOS-SAFETY', 'SC-008', 'SC-009', 'SC-010']));
    const facts = await conformanceFacts(p.plan);
    expect([...facts!.values()].map((f) => f.notEvaluated === undefined ? f.actual : 'not evaluated')).toEqual([0, 'not evaluated', 'not evaluated', 0, 0, 0, 0]);
  });
});
