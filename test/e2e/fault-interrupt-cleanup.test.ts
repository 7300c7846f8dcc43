import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';
import { usePostgresOutlivingRuns } from '../helpers/outliving-postgres.js';

/**
 * Runs against a PostgreSQL that outlives the run (usePostgresOutlivingRuns). Each step is waited
 * for whatever its pace (no timing is judged): in the parallel group. The abort guard, whose timing
 * is judged, is in fault-cleanup.test.ts.
 */
describe('pool faults leave nothing in the database when the run is interrupted', () => {
  const db = usePostgresOutlivingRuns('gd-fic-');

  /** Sessions other than ours and PostgreSQL's own background workers. */
  const otherSessions = async (): Promise<string[]> =>
    (await db.admin.query("SELECT application_name FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")).rows.map((r) => String(r.application_name));
  /** Table locks held by the fault's own sessions: the lock fault is on (not a migration's or the seed's lock). */
  const faultLocks = async (): Promise<number> =>
    Number(
      (
        await db.admin.query(
          "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted AND a.application_name LIKE 'gameday-fault-%'",
        )
      ).rows[0].count,
    );

  it.each([
    { mode: 'lock', signal: 'SIGINT' },
    { mode: 'hold', signal: 'SIGTERM' },
  ] as const)('$signal mid-$mode: exit 130, no held locks, no extra connections, no processes or temp dirs', { timeout: 120_000 }, async ({ mode, signal }) => {
    const url = await db.postgres.createDatabase(`cleanup_${mode}`);
    const tmp = privateTmp();
    const run = startCli(['run', `test/scenarios/${mode}-short.yaml`, '--out', join(db.out, mode)], { DATABASE_URL: url, TMPDIR: tmp.dir });
    const seen = new Set<number>();
    // Wait until the fault is on, as the database itself shows it.
    const faultOn = async (): Promise<boolean> =>
      mode === 'lock' ? (await faultLocks()) > 0 : (await otherSessions()).filter((n) => n.startsWith('gameday-fault-')).length > 20;
    expect(await waitFor(async () => {
      for (const pid of descendants(run.child.pid)) seen.add(pid);
      return faultOn();
    }, 60_000, 100)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    run.child.kill(signal);
    expect((await run.exit).code).toBe(130);
    expect(await waitFor(async () => (await otherSessions()).length === 0, 5000)).toBe(true);
    expect(await otherSessions()).toEqual([]);
    expect(await db.tasksLocks()).toBe(0);
    expect([...seen].filter(isAlive).map(describeProcess)).toEqual([]);
    expect(tmp.entries()).toEqual([]);
    rmSync(tmp.dir, { recursive: true, force: true });
  });

});
