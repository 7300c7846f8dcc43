import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli } from '../helpers/cli.js';
import { isAlive, privateTmp } from '../helpers/leftovers.js';

describe('a pod-kill Game Day end to end (real PostgreSQL, real replica processes)', () => {
  const out = mkdtempSync(join(tmpdir(), 'gd-e2e-'));
  const tmp = privateTmp();
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(tmp.dir, { recursive: true, force: true });
  });

  it('runs, judges SC-008..SC-010, writes result.json and leaves nothing behind', async () => {
    const run = await runCli(['run', 'test/scenarios/pod-kill-short.yaml', '--out', out], { TMPDIR: tmp.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(['SC-008', 'SC-009', 'SC-010']);
    for (const c of r.checks) expect(c.actual).not.toBeNull();

    // Platform RTO: kill → replacement ready, as the journal recorded them.
    const kill = r.journal.find((e) => e.type === 'replica.killed')!;
    const victim = kill.target!;
    const ready = r.journal.find((e) => e.type === 'replica.ready' && e.detail?.['replaces'] === victim)!;
    expect(r.rto.platformMs).toBeCloseTo(ready.atMs - kill.atMs, 3);
    expect(r.rto.platformMs!).toBeGreaterThan(0);
    expect(r.rto.clientMs).not.toBeNull();
    const about = (type: string, key: 'target' | 'replaces') =>
      r.journal.find((e) => e.type === type && (key === 'target' ? e.target === victim : e.detail?.['replaces'] === victim) && e.atMs >= kill.atMs);
    const steps = [about('replica.killed', 'target'), about('replica.left-service', 'target'), about('replica.started', 'replaces'), about('replica.ready', 'replaces')];
    expect(steps.every(Boolean)).toBe(true);
    const times = steps.map((e) => e!.atMs);
    expect(times[3]!).toBeGreaterThan(times[2]!);
    expect(times[2]!).toBeGreaterThanOrEqual(times[0]!);

    // The timeline covers the run second by second, with HTTP statuses and transport errors apart.
    expect(r.timeline.length).toBeGreaterThanOrEqual(14);
    expect(r.requests.total).toBeGreaterThan(1000);
    expect(r.requests.total).toBe(r.requests.responses + r.requests.transportErrors);
    expect(r.phases.map((p) => p.span.phase)).toEqual(['warmup', 'baseline', 'fault', 'recovery', 'after']);
    expect(r.latency.p95Ms!).toBeGreaterThan(0);
    expect(run.stdout).toContain('SC-008: Pod kill recovery time');

    // Nothing left: every replica the journal started is gone, and no temp directory remains.
    const pids = r.journal.filter((e) => e.type === 'replica.started').map((e) => Number(e.detail?.['pid']));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(tmp.entries()).toEqual([]);
  });
});
