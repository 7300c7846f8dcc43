import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli, startCli } from '../helpers/cli.js';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';

/** Runs against a PostgreSQL that outlives the run, so what the run left in it can be inspected. */
describe('pool faults leave nothing in the database, whatever ends the run', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  const out = mkdtempSync(join(tmpdir(), 'gd-fc-'));
  beforeAll(async () => {
    postgres = await startTestPostgres(80);
    admin = new pg.Client({ connectionString: postgres.url, application_name: 'test-admin' });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await postgres?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  /** Sessions other than ours and PostgreSQL's own background workers. */
  const otherSessions = async (): Promise<string[]> =>
    (await admin.query("SELECT application_name FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")).rows.map((r) => String(r.application_name));
  /** Table locks in any database of the server (the run's database is not the one we are connected to). */
  const tasksLocks = async (): Promise<number> =>
    Number((await admin.query("SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'")).rows[0].count);

  it.each([
    { mode: 'lock', signal: 'SIGINT' },
    { mode: 'hold', signal: 'SIGTERM' },
  ] as const)('$signal mid-$mode: exit 130, no held locks, no extra connections, no processes or temp dirs', { timeout: 120_000 }, async ({ mode, signal }) => {
    const url = await postgres.createDatabase(`cleanup_${mode}`);
    const tmp = privateTmp();
    const run = startCli(['run', `test/scenarios/${mode}-short.yaml`, '--out', join(out, mode)], { DATABASE_URL: url, TMPDIR: tmp.dir });
    const seen = new Set<number>();
    // Wait until the fault is on, as the database itself shows it.
    const faultOn = async (): Promise<boolean> =>
      mode === 'lock' ? (await tasksLocks()) > 0 : (await otherSessions()).filter((n) => n.startsWith('gameday-fault-')).length > 20;
    expect(await waitFor(async () => {
      for (const pid of descendants(run.child.pid)) seen.add(pid);
      return faultOn();
    }, 60_000, 100)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    run.child.kill(signal);
    expect((await run.exit).code).toBe(130);
    expect(await waitFor(async () => (await otherSessions()).length === 0, 5000)).toBe(true);
    expect(await otherSessions()).toEqual([]);
    expect(await tasksLocks()).toBe(0);
    expect([...seen].filter(isAlive).map(describeProcess)).toEqual([]);
    expect(tmp.entries()).toEqual([]);
    rmSync(tmp.dir, { recursive: true, force: true });
  });

  it('the abort guard stops a run whose failures stay high, recovers the fault and reports "aborted" (exit 1)', { timeout: 120_000 }, async () => {
    const url = await postgres.createDatabase('abort_guard');
    const started = Date.now();
    const r = await runCli(['run', 'test/scenarios/abort-short.yaml', '--out', join(out, 'abort')], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(28_000); // stopped well before the scenario's 30 s
    const result = JSON.parse(readFileSync(join(out, 'abort', 'result.json'), 'utf8')) as ResultDocument;
    expect(result.verdict).toBe('aborted');
    expect(result.passed).toBe(false);
    const aborted = result.journal.find((e) => e.type === 'run.aborted');
    expect(aborted).toBeDefined();
    expect(aborted!.atMs).toBeGreaterThan(4000 + 3000);
    // A second is judged once every request sent in it has completed or timed out (timeout 2 s + 1 s).
    expect(aborted!.atMs).toBeLessThan(4000 + 3000 + 3000 + 3000);
    expect(result.journal.some((e) => e.type === 'pool.released' && e.atMs >= aborted!.atMs)).toBe(true);
    // The fault is recovered before the load drains, not a load timeout later.
    const released = result.journal.find((e) => e.type === 'pool.released' && e.atMs >= aborted!.atMs)!;
    expect(released.atMs - aborted!.atMs).toBeLessThan(1500);
    expect(result.timeline.length).toBeGreaterThan(5); // the partial results are kept
    expect(await tasksLocks()).toBe(0);
  });
});
