import { existsSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { clusterParent, startEmbeddedPostgres } from '../../harness/platform/local/postgres.js';
import { newShmSegments } from '../helpers/leftovers.js';

/** Where the embedded cluster lives: in memory (/dev/shm) unless TMPDIR says otherwise or there is no room. */

const TMPFS_MAGIC = 0x01021994;
const shm = existsSync('/dev/shm') ? statfsSync('/dev/shm') : undefined;
const roomyTmpfs = shm !== undefined && shm.type === TMPFS_MAGIC && shm.bavail * shm.bsize >= 2 * 1024 ** 3;

describe('the embedded cluster directory', () => {
  it('is in the temp directory when TMPDIR (or TMP, TEMP) is set, or the memory directory is not a roomy tmpfs', async () => {
    expect(await clusterParent({ TMPDIR: '/var/tmp/x' })).toBe(tmpdir());
    expect(await clusterParent({ TEMP: '/var/tmp/x' })).toBe(tmpdir());
    expect(await clusterParent({}, '/')).toBe(tmpdir()); // the root file system: not a tmpfs
    expect(await clusterParent({}, '/nonexistent-gameday-dir')).toBe(tmpdir());
    expect(await clusterParent({ GAMEDAY_DB_DIR: '/var/lib/gd', TMPDIR: '/var/tmp/x' })).toBe('/var/lib/gd'); // named outright
  });

  it.runIf(roomyTmpfs)('is /dev/shm otherwise: initdb and the server there, removed by stop()', async () => {
    expect(await clusterParent({})).toBe('/dev/shm');
    const saved = { TMPDIR: process.env['TMPDIR'], TMP: process.env['TMP'], TEMP: process.env['TEMP'] };
    for (const k of Object.keys(saved)) delete process.env[k];
    let db: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
    try {
      db = await startEmbeddedPostgres(20);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
    const dir = db.dir as string;
    try {
      expect(dir.startsWith('/dev/shm/gameday-pg-')).toBe(true);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        expect((await client.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]?.d).toBe(`${dir}/data`);
      } finally {
        await client.end();
      }
    } finally {
      await db.stop();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('a killed server leaves no shared memory segment behind (/dev/shm/PostgreSQL.*)', async () => {
    const newSegments = newShmSegments();
    const db = await startEmbeddedPostgres(20);
    try {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      // A parallel query makes the server use dynamic shared memory beyond its control segment.
      await client.query('SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0');
      await client.query('SELECT count(*) FROM generate_series(1, 200000) g');
      await client.end();
      await db.lifecycle?.destroy(); // SIGKILL to the server's group, data directory deleted
    } finally {
      await db.stop();
    }
    expect(newSegments()).toEqual([]);
  });
});
