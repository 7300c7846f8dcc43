import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerBlock } from '../../harness/observe/server-compare.js';
import { findPrometheus } from '../../harness/platform/local/prometheus.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli, startCli } from '../helpers/cli.js';
import { isAlive, privateTmp, processesMentioning, waitFor } from '../helpers/leftovers.js';

const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';
const outs: string[] = [];
afterAll(() => outs.forEach((o) => rmSync(o, { recursive: true, force: true })));

/** Runs a scenario in a private TMPDIR; checks that nothing of Prometheus is left, returns result.json. */
async function run(scenario: string): Promise<{ r: ResultDocument; stdout: string; server: Extract<ServerBlock, { source: 'prometheus' }> }> {
  const out = mkdtempSync(join(tmpdir(), 'gd-prom-'));
  outs.push(out);
  const tmp = privateTmp();
  const res = await runCli(['run', scenario, '--out', out], { TMPDIR: tmp.dir });
  const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
  // Prometheus and its storage went with the run.
  expect(processesMentioning(tmp.dir)).toEqual([]);
  expect(tmp.entries()).toEqual([]);
  rmSync(tmp.dir, { recursive: true, force: true });
  if (!r.server || 'skipped' in r.server) throw new Error(`no server view: ${JSON.stringify(r.server)}\n${res.stderr}`);
  return { r, stdout: res.stdout, server: r.server };
}

describe('a promql check is validated before anything starts', () => {
  it('a syntax error is exit 2 with the check, the line and the column', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-promql-'));
    outs.push(dir);
    const file = join(dir, 'typo.yaml');
    const scenario = readFileSync('test/scenarios/prom-5xx.yaml', 'utf8').replace('[$__window]))\' }', '[$__window])\' }');
    writeFileSync(file, scenario);
    const res = await runCli(['validate', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('spec.checks[1].query');
    expect(res.stderr).toContain('a syntax error at line 1, column 64, near the end of the expression');
    // The same run is refused before anything starts.
    const run = await runCli(['run', file, '--out', join(dir, 'out')]);
    expect(run.code).toBe(2);
    expect(existsSync(join(dir, 'out', 'result.json'))).toBe(false);
  });
});

describe.skipIf(!!why)(`the servers' view beside the clients' (real Prometheus)${why ? ` — skipped: ${why}` : ''}`, () => {
  it('every failure an HTTP 5xx: the servers counted the same 5xx as the clients, and the p95 bucket holds the client p95', { timeout: 90_000 }, async () => {
    const { r, stdout, server } = await run('test/scenarios/prom-5xx.yaml');
    expect(r.requests.transportErrors).toBe(0);
    expect(r.requests.status5xx).toBeGreaterThan(10);
    const whole = server.phases.find((p) => p.phase === 'run')!;
    expect(whole.server.status5xx).toBe(r.requests.status5xx);
    expect(whole.explained).toContain(`5xx agree: ${r.requests.status5xx} on both sides`);
    // The seed's PromQL, its window the phase's length.
    const fault = server.phases.find((p) => p.phase === 'fault')!;
    expect(fault.server.windowS).toBe(3);
    expect(fault.server.seed5xx.query).toBe('sum(increase(task_api_requests_total{status=~"5.."}[3s]))');
    expect(fault.server.seed5xx.value).toBeGreaterThan(0);
    // A bucketed histogram gives bounds; the client's p95 adds only the network hop to the server's time.
    const { lowerMs, upperMs } = whole.server.p95;
    expect(lowerMs).not.toBeNull();
    expect(upperMs).not.toBeNull();
    expect(whole.client.p95Ms).toBeGreaterThanOrEqual(lowerMs as number);
    expect(whole.client.p95Ms).toBeLessThanOrEqual((upperMs as number) + 50);
    // promql checks, evaluated over their phase windows: one fails, one passes, one has no data.
    const check = (id: string) => r.checks.find((c) => c.id === id)!;
    expect(check('SC-009s')).toMatchObject({ metric: 'promql', passed: false });
    expect(check('SC-009s').actual).toBeGreaterThan(0);
    expect(check('SC-009s').detail).toContain('sum(increase(task_api_requests_total{status=~"5.."}[6s])) at 9.0 s = ');
    expect(check('BASE-5xx')).toMatchObject({ actual: 0, passed: true });
    expect(check('NODATA')).toMatchObject({ actual: null, passed: false });
    expect(check('NODATA').detail).toMatch(/^no data: .*\[2s\]\)\) at 3\.0 s returned an empty result$/);
    expect(stdout).toContain('server side (Prometheus, 1 s scrapes) next to the clients:');
    expect(stdout).toMatch(/p95 between \d/);
    // The HTML report shows both views per window.
    const html = readFileSync(join(outs[outs.length - 1]!, 'report.html'), 'utf8');
    expect(html).toContain('<section id="server">');
    // The servers' p95 over the client p95 timeline: about one point a second of the run.
    expect(server.p95Series.points.length).toBeGreaterThan(5);
    expect(html).toContain('dotted: the servers&#x27; p95 from Prometheus');
    expect(html).toContain(`5xx agree: ${r.requests.status5xx} on both sides`);
  });

  it('Ctrl-C mid-run: Prometheus is stopped and its directory removed before exit 130', { timeout: 90_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-prom-int-'));
    outs.push(out);
    const tmp = privateTmp();
    const run = startCli(['run', 'test/scenarios/prom-5xx.yaml', '--out', out], { TMPDIR: tmp.dir }, { detached: true });
    try {
      expect(await waitFor(() => run.stdout().includes('s/10s') && tmp.entries().some((e) => e.startsWith('gameday-prom-')), 60_000, 50)).toBe(true);
      const pids = processesMentioning(tmp.dir);
      expect(pids.length).toBeGreaterThan(0);
      process.kill(-(run.child.pid as number), 'SIGINT');
      expect((await run.exit).code, run.stderr()).toBe(130);
      const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
      const ready = r.journal.find((e) => e.type === 'prometheus.ready');
      expect(ready).toBeDefined();
      expect(isAlive((ready!.detail as { pid: number }).pid)).toBe(false);
      expect(pids.filter(isAlive)).toEqual([]);
      expect(tmp.entries()).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  });

  it('a pod kill: resets only clients saw are explained, and the killed replica\'s scrape gap is named', { timeout: 90_000 }, async () => {
    // pod-kill-short.yaml, shorter still: what is judged is the kill's few seconds, not the run's length.
    const dir = mkdtempSync(join(tmpdir(), 'gd-prom-kill-'));
    outs.push(dir);
    const file = join(dir, 'pod-kill.yaml');
    const text = readFileSync('test/scenarios/pod-kill-short.yaml', 'utf8');
    const shorter = [['duration: 14s', 'duration: 9s'], ['warmup: 2s', 'warmup: 1s'], ['seedRows: 2000', 'seedRows: 300'], ['at: 5s', 'at: 3s'], ['duration: 5s', 'duration: 3s']].reduce((t, [a, b]) => {
      if (!t.includes(a!)) throw new Error(`pod-kill-short.yaml no longer says ${a}`);
      return t.replace(a!, b!);
    }, text);
    writeFileSync(file, shorter);
    const { r, server } = await run(file);
    const killed = r.journal.find((e) => e.type === 'replica.exited' && e.atMs > 0 && e.atMs < 9_000)?.target;
    expect(killed).toBeDefined();
    const whole = server.phases.find((p) => p.phase === 'run')!;
    expect(whole.server.status5xx).toBe(0);
    expect(server.scrapeGaps.map((g) => g.replica)).toContain(killed);
    expect(whole.explained.some((e) => e.startsWith(`scrape gap: ${killed} was last scraped at`))).toBe(true);
    // Closed load on three replicas: requests are in flight on the killed one.
    expect(whole.client.transportErrors).toBeGreaterThan(0);
    expect(whole.explained.some((e) => e.includes('were seen only by clients: no server answered them'))).toBe(true);
  });
});
