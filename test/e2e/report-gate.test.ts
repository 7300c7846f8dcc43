import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_FILES } from '../../harness/report/outputs.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli } from '../helpers/cli.js';
import { delayScenario, startDelayServer, type DelayServer } from '../report/delay-server.js';

/**
 * The regression gate on real runs: three short Game Days against a loopback service whose
 * latency is a knob. 20 ms → 26 ms (+30 %) must be caught; 20 ms again must pass.
 */
let dir = '';
let server: DelayServer;
let scenario: string;
const BASE_DELAY_MS = 20;
const INJECTED = 0.35;
/** Set when the gate judged the slow run's machine too disturbed by other work to compare latency. */
let slowDisturbed: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gd-gate-'));
  server = await startDelayServer(BASE_DELAY_MS);
  scenario = join(dir, 'gate.yaml');
  writeFileSync(scenario, delayScenario(server.url));
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gameday run --baseline / gameday compare on real runs', () => {
  let base = '';
  let slow = '';
  let same = '';
  beforeAll(() => {
    [base, slow, same] = ['base', 'slow', 'same'].map((d) => join(dir, d)) as [string, string, string];
  });

  it('a run writes every output', async () => {
    const r = await runCli(['run', scenario, '--out', base]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of OUTPUT_FILES) expect(readFileSync(join(base, f), 'utf8').length).toBeGreaterThan(100);
    // The interval log reads back with HdrHistogram's own reader: one interval per second, same counts and p99.
    const result = JSON.parse(readFileSync(join(base, 'result.json'), 'utf8')) as ResultDocument;
    const reader = new HistogramLogReader(readFileSync(join(base, 'latency.hlog'), 'utf8'));
    const read = [];
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) read.push(h);
    expect(read.map((h) => h.totalCount)).toEqual(result.timeline.map((w) => w.count));
    expect(read.map((h) => (h.totalCount ? h.getValueAtPercentile(99) / 1000 : null))).toEqual(result.timeline.map((w) => w.p99Ms));
  });

  it('+30 % latency: run --baseline exits 1, --json prints only JSON events, summary.md and GITHUB_STEP_SUMMARY get the diff table', async (ctx) => {
    // A real, known regression: +35 % of the baseline's p95 added to every answer, which clients
    // measure as ≈ +30 % (timer granularity and the fixed overhead take the rest; see npm run bench).
    const baseP95 = (JSON.parse(readFileSync(join(base, 'result.json'), 'utf8')) as ResultDocument).latency.p95Ms ?? BASE_DELAY_MS;
    server.delayMs = BASE_DELAY_MS + INJECTED * baseP95;
    const stepSummary = join(dir, 'step-summary.md');
    const r = await runCli(['run', scenario, '--out', slow, '--baseline', base, '--json'], { GITHUB_STEP_SUMMARY: stepSummary });
    server.delayMs = BASE_DELAY_MS;
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; regressed?: boolean; metrics?: Array<{ metric: string; status: string; reason: string }> });
    const p95 = events.find((e) => e.event === 'comparison')?.metrics?.find((m) => m.metric === 'latency.p95');
    // Off CI, a machine busy with other work cannot show a 30 % change: the gate says so (inconclusive,
    // or a change whose interval reaches into the noise) and this test cannot judge it.
    slowDisturbed = p95?.status === 'inconclusive' || p95?.status === 'within-noise' ? p95.reason : undefined;
    ctx.skip(slowDisturbed !== undefined && !process.env['CI'], `the gate found the machine disturbed: ${slowDisturbed}`);
    expect(r.code, `${r.stderr}\np95: ${JSON.stringify(p95)}`).toBe(1);
    expect(events[0]?.event).toBe('start');
    expect(events.filter((e) => e.event === 'tick').length).toBeGreaterThanOrEqual(4);
    expect(events.find((e) => e.event === 'comparison')?.regressed).toBe(true);
    expect(p95?.status).toBe('regressed');
    for (const text of [readFileSync(join(slow, 'summary.md'), 'utf8'), readFileSync(stepSummary, 'utf8')]) {
      expect(text).toContain('### Regression gate: ❌ REGRESSED');
      expect(text).toMatch(/\| latency p95 \| \d+(\.\d)?ms \| \d+(\.\d)?ms \| .* \| ❌ regressed \|/);
    }
    expect(readFileSync(join(slow, 'report.html'), 'utf8')).toContain('REGRESSED');
    const junit = readFileSync(join(slow, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="regression-gate" tests="6" failures="');
    expect(junit).toMatch(/<testcase classname="gameday.regression-gate" name="latency p95" time="0">\n\s+<failure message="\+\d+\.\d% or more \(95% lower bound\) &gt; allowed/);
  });

  it('the same latency again, twice (--repeat 2): exit 0, --quiet prints only the verdict lines', async () => {
    const r = await runCli(['run', scenario, '--out', same, '--baseline', base, '--quiet', '--repeat', '2']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const verdict = expect.stringMatching(/^gate-check: PASSED — 1\/1 checks passed$/);
    expect(r.stdout.trim().split('\n')).toEqual([verdict, verdict, 'regression gate: no regression']);
    for (const f of OUTPUT_FILES) expect(existsSync(join(same, 'repeat-2', f)), f).toBe(true);
    const summary = readFileSync(join(same, 'summary.md'), 'utf8');
    expect(summary).toContain('## ✅ gate-check: 2/2 repetitions held the spec');
    expect(summary).toContain('Baseline gate-check (1 run) vs current gate-check (2 runs).');
  });

  it('gameday compare: exit 1 with the Markdown table on the regression, 0 on the A/A pair', async () => {
    const bad = await runCli(['compare', join(base, 'result.json'), slow]);
    expect(bad.code).toBe(slowDisturbed && !process.env['CI'] ? 0 : 1);
    expect(bad.stdout).toContain('| Metric | Baseline | Current | Change | Interval | Tolerance | Status | Why |');
    const good = await runCli(['compare', base, same]);
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toContain('### Regression gate: ✅ no regression');
    expect(good.stdout).toContain('vs current gate-check (2 runs)');
  });

  it('gameday report re-renders every output from result.json alone, byte for byte', async () => {
    const again = join(dir, 'again');
    const r = await runCli(['report', join(base, 'result.json'), '--out', again]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of OUTPUT_FILES) expect(readFileSync(join(again, f), 'utf8'), f).toBe(readFileSync(join(base, f), 'utf8'));
  });

  it('bad inputs are exit 2: a missing baseline (nothing is run), a result of another schema version', async () => {
    const r = await runCli(['run', scenario, '--out', join(dir, 'never'), '--baseline', join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.json: expected a result.json or a run directory, found nothing there');
    expect(existsSync(join(dir, 'never'))).toBe(false);
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ schemaVersion: 1 }));
    const c = await runCli(['compare', old, base]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('old.json: schemaVersion: expected 4');
  });
});
