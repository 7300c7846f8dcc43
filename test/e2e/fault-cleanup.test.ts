import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli } from '../helpers/cli.js';
import { usePostgresOutlivingRuns } from '../helpers/outliving-postgres.js';

/**
 * Runs against a PostgreSQL that outlives the run (usePostgresOutlivingRuns). The interrupted
 * runs are in fault-interrupt-cleanup.test.ts (they judge no timing).
 */
describe('the abort guard ends a pool fault early and leaves nothing in the database', () => {
  const db = usePostgresOutlivingRuns('gd-fc-');

  it('the abort guard stops a run whose failures stay high, recovers the fault and reports "aborted" (exit 1)', { timeout: 120_000 }, async () => {
    const url = await db.postgres.createDatabase('abort_guard');
    const r = await runCli(['run', 'test/scenarios/abort-short.yaml', '--out', join(db.out, 'abort')], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    const result = JSON.parse(readFileSync(join(db.out, 'abort', 'result.json'), 'utf8')) as ResultDocument;
    expect(result.verdict).toBe('aborted');
    expect(result.passed).toBe(false);
    const aborted = result.journal.find((e) => e.type === 'run.aborted');
    expect(aborted).toBeDefined();
    expect(aborted!.atMs).toBeGreaterThan(2000 + 3000);
    // A second is judged once every request sent in it has completed or timed out (timeout 2 s + 1 s).
    expect(aborted!.atMs).toBeLessThan(2000 + 3000 + 3000 + 3000);
    // Stopped well before the scenario's 30 s, on the run's own clock (zero when the load starts), so
    // the time this machine takes to start and tear down the replicas does not count: the load stops
    // within its timeout (2 s) of the abort, and the run finishes soon after (recovery, durability check).
    expect(result.timeline.length).toBeLessThanOrEqual(Math.ceil(aborted!.atMs / 1000) + 3);
    const finished = result.journal.find((e) => e.type === 'run.finished');
    expect(finished).toBeDefined();
    expect(finished!.atMs - aborted!.atMs).toBeLessThan(8000);
    expect(result.journal.some((e) => e.type === 'pool.released' && e.atMs >= aborted!.atMs)).toBe(true);
    // The fault is recovered before the load drains, not a load timeout later.
    const released = result.journal.find((e) => e.type === 'pool.released' && e.atMs >= aborted!.atMs)!;
    expect(released.atMs - aborted!.atMs).toBeLessThan(1500);
    expect(result.timeline.length).toBeGreaterThan(5); // the partial results are kept
    expect(await db.tasksLocks()).toBe(0);
  });
});
