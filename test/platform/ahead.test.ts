import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { discardAhead, startAhead, takeAhead } from '../../harness/platform/local/ahead.js';
import { bundleLeftovers, commandLine, descendants, describeProcess, isAlive, newShmSegments, waitFor } from '../helpers/leftovers.js';
import { localPlatformPlan } from '../helpers/plans.js';

/** A local run's reaper and embedded database, started once the input is valid, before the run's modules load. */
describe('start-up ahead of the deploy', () => {
  it('starts the reaper, the embedded database and the Task API bundle on it; the deploy takes them once', { timeout: 60_000 }, async () => {
    startAhead(localPlatformPlan());
    startAhead(localPlatformPlan()); // a second call starts nothing more
    const taken = takeAhead();
    expect(takeAhead()).toBeUndefined();
    const reaper = await (taken as NonNullable<typeof taken>).reaper;
    const db = await (taken?.database as NonNullable<NonNullable<typeof taken>['database']>);
    const image = await (taken?.image as NonNullable<NonNullable<typeof taken>['image']>);
    try {
      expect(reaper.alive).toBe(true);
      expect(existsSync(image.file)).toBe(true);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      await client.end();
    } finally {
      await db.stop();
      await image.remove();
      await reaper.release();
    }
    expect(existsSync(db.dir as string)).toBe(false);
    expect(bundleLeftovers(process.pid)).toEqual([]);
  });

  it('starts no database for an app that asked for none (nor the bundle), nor for an existing server', { timeout: 30_000 }, async () => {
    const app = { name: 'kv', command: ['node', 'x.js'], env: {}, readinessPath: '/health', database: false };
    for (const plan of [localPlatformPlan({ app }), localPlatformPlan({ database: { kind: 'url', url: 'postgres://u:p@127.0.0.1:1/db' } })]) {
      startAhead(plan);
      const taken = takeAhead();
      expect(taken?.database).toBeUndefined();
      expect(taken?.image === undefined).toBe(plan.app !== undefined);
      await (await taken?.image)?.remove();
      await (await taken?.reaper)?.release();
    }
  });

  it('what no deploy took is stopped by discardAhead: initdb, its directory, the bundle, the reaper', { timeout: 60_000 }, async () => {
    const newSegments = newShmSegments();
    startAhead(localPlatformPlan());
    // Caught in the middle: initdb runs (its --pgdata names the cluster's directory).
    let initdb: number | undefined;
    expect(await waitFor(() => (initdb = descendants().find((pid) => /\/initdb\b/.test(commandLine(pid)))) !== undefined, 30_000, 10)).toBe(true);
    const dataDir = /--pgdata=(\S+)/.exec(commandLine(initdb as number))?.[1] as string;
    const started = descendants();
    await discardAhead();
    expect(takeAhead()).toBeUndefined();
    expect(await waitFor(() => started.every((pid) => !isAlive(pid)), 10_000)).toBe(true);
    expect(started.filter(isAlive).map(describeProcess)).toEqual([]);
    expect(existsSync(dirname(dataDir))).toBe(false);
    expect(bundleLeftovers(process.pid)).toEqual([]);
    // No shared memory segment of a killed initdb's backend either.
    expect(newSegments()).toEqual([]);
  });
});
