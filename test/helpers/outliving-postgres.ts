import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';

export interface OutlivingPostgres {
  postgres: TestPostgres;
  /** Connected to the server's own database as `test-admin`. */
  admin: pg.Client;
  /** The runs' output directories go under it (made before the block's tests). */
  out: string;
  /** Table locks in any database of the server (the run's database is not the one `admin` is connected to). */
  tasksLocks(): Promise<number>;
}

/**
 * A PostgreSQL that outlives the runs of the enclosing describe block, so what a run left in it
 * can be inspected; started before its tests, stopped after them with the output directory.
 */
export function usePostgresOutlivingRuns(outPrefix: string): OutlivingPostgres {
  const db = { out: '' } as OutlivingPostgres;
  db.tasksLocks = async () => Number((await db.admin.query("SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'")).rows[0].count);
  // Made when the block runs, not when it is collected: a filtered-out block runs no hooks.
  beforeAll(async () => {
    db.out = mkdtempSync(join(tmpdir(), outPrefix));
    db.postgres = await startTestPostgres(80);
    db.admin = new pg.Client({ connectionString: db.postgres.url, application_name: 'test-admin' });
    await db.admin.connect();
  });
  afterAll(async () => {
    await db.admin?.end();
    await db.postgres?.stop();
    if (db.out) rmSync(db.out, { recursive: true, force: true });
  });
  return db;
}
