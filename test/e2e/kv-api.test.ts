import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { formatProblem } from '../../harness/core/errors.js';
import { buildResult } from '../../harness/report/result.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { planFromText } from '../../harness/scenario/index.js';
import { ROOT, startCli } from '../helpers/cli.js';
import { descendants, describeProcess, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

const SCENARIO = fileURLToPath(new URL('../../scenarios/kv-api.yaml', import.meta.url));

/**
 * The shipped scenario as it stands (app, workload, fault kind, checks), with its timings
 * shortened to fit the suite: 12 s, the kill at 4 s.
 */
function shortenedScenario(): string {
  const doc = parse(readFileSync(SCENARIO, 'utf8'));
  const spec = doc.spec;
  spec.duration = '12s';
  spec.warmup = '2s';
  spec.platform.local.readinessProbe = { period: '200ms', failureThreshold: 1, successThreshold: 1 };
  spec.platform.local.app.env.SEED_ITEMS = '300';
  spec.faults[0].at = '4s';
  spec.faults[0].duration = '3s';
  spec.recovery = { window: '3s', sustain: '2s' };
  return stringify(doc);
}

function shortenedPlan() {
  // Parsed next to the shipped file, so its workingDir (the project root) resolves as it does there.
  const r = planFromText(shortenedScenario(), { file: SCENARIO, env: {} });
  if (r.problems) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.plan;
}

describe('kv-api Game Day end to end: any HTTP service as the replicas, its own workload, a pod kill', () => {
  // Made by the test itself (not at collection), so a filtered run leaves no directory behind.
  let out: string | undefined;
  const savedTmp = process.env['TMPDIR'];
  afterAll(() => {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('deploys 3 kv-api replicas on PostgreSQL, loads them with authenticated requests, kills one, judges recovery, leaves nothing', async () => {
    const plan = shortenedPlan();
    out = mkdtempSync(join(tmpdir(), 'gd-e2e-kv-'));
    const tmp = privateTmp();
    process.env['TMPDIR'] = tmp.dir;
    const run = await runGameDay(plan, { outDir: out, signal: new AbortController().signal });
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('completed');
    const r = buildResult(plan, run.analysis!, run.status, {}, run.load);
    const journal = r.journal;

    // The replicas were kv-api processes, and the one killed was replaced.
    const started = journal.filter((e) => e.type === 'replica.started');
    expect(started.every((e) => e.target?.startsWith('kv-api-'))).toBe(true);
    const kill = journal.find((e) => e.type === 'replica.killed');
    expect(kill?.target).toMatch(/^kv-api-/);
    expect(journal.some((e) => e.type === 'replica.ready' && e.detail?.['replaces'] === kill!.target)).toBe(true);
    expect(journal.some((e) => e.type === 'database.ready')).toBe(true);

    // Every request was the app's own and answered as expected: the token was accepted, the
    // discovered keys exist, writes were created. The only failures are the killed replica's in-flight requests.
    const seconds = r.timeline;
    const sum = (f: (s: (typeof seconds)[number]) => number): number => seconds.reduce((n, s) => n + f(s), 0);
    expect(sum((s) => s.responses)).toBeGreaterThan(1000);
    expect(sum((s) => s.status['2xx'])).toBe(sum((s) => s.responses));
    expect(sum((s) => s.unexpected)).toBe(0);
    expect(r.requests.failures).toBe(r.requests.transportErrors);
    expect(r.requests.failures).toBeLessThanOrEqual(10);

    // The shipped checks, judged: client RTO, SC-009-style 5xx, p95, client failure ratio.
    expect(r.checks.map((c) => [c.id, c.passed])).toEqual([
      ['KV-1', true],
      ['KV-2', true],
      ['KV-3', true],
      ['KV-4', true],
      ['KV-5', true],
      ['DUR-1', true],
      ['CF-1', true],
    ]);
    // Every acknowledged put was read back over HTTP after the run, as acknowledged.
    expect(r.durability).toMatchObject({ acknowledged: run.load!.acknowledgedWrites.length, checked: run.load!.acknowledgedWrites.length, lostWrites: 0 });
    expect(r.durability!.checked).toBeGreaterThan(100);
    expect(journal.find((e) => e.type === 'durability.verified')?.detail).toMatchObject({ by: 'read-back', lost: 0, unread: 0 });
    for (const c of r.checks) expect(c.actual).not.toBeNull();
    expect(r.passed).toBe(true);

    // Nothing left behind: every replica started is gone, with its children, and the temp directories.
    const pids = started.map((e) => Number(e.detail?.['pid']));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter(isAlive)).toEqual([]);
    await waitFor(() => descendants().length === 0, 5000);
    expect(descendants().map(describeProcess)).toEqual([]);
    expect(tmp.entries()).toEqual([]);
  }, 40_000);
});

describe('the harness killed outright (SIGKILL) in the middle of a kv-api Game Day', () => {
  it('leaves no replica, no PostgreSQL and no temp directory: the reaper kills the app replicas, which have no IPC channel', async () => {
    const tmp = privateTmp();
    const out = mkdtempSync(join(tmpdir(), 'gd-kill-kv-'));
    const file = join(out, 'kv-api-short.yaml');
    writeFileSync(file, shortenedScenario().replace('workingDir: ..', `workingDir: ${JSON.stringify(ROOT)}`));
    const run = startCli(['run', file, '--out', join(out, 'report')], { TMPDIR: tmp.dir }, { detached: true });
    try {
      // The first progress line comes once every replica is ready and the load has started.
      expect(await waitFor(() => run.stdout().includes('s/12s'), 30_000, 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      const seen = new Set(descendants(run.child.pid));
      const replicas = [...seen].filter((pid) => describeProcess(pid).includes('kv-api/main.mjs'));
      expect(replicas.length).toBe(3);
      expect([...seen].some((pid) => describeProcess(pid).includes('postgres'))).toBe(true);
      run.child.kill('SIGKILL');
      await run.exit;
      const alive = (): string[] => [...seen].filter(isAlive).map(describeProcess);
      await waitFor(() => alive().length === 0 && tmp.entries().length === 0, 15_000);
      expect(alive()).toEqual([]);
      expect(tmp.entries()).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
