import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withDb } from './db-helpers.js';
import { startTestPostgres, type TestPostgres } from './pg.js';
import { killAllTaskApis, runTaskApi, type CommandResult } from './replica.js';

/** `seed`: deterministic for a SEED, idempotent, safe to run concurrently, ids 1..N. */

const ROWS = 500;

let postgres: TestPostgres;

beforeAll(async () => {
  postgres = await startTestPostgres();
});

afterEach(async () => {
  await killAllTaskApis();
});

afterAll(async () => {
  await postgres?.stop();
});

interface Seeded {
  event: string;
  rows: number;
  ids: { min: number; max: number };
  inserted: number;
}

async function seed(url: string, env: Record<string, string> = {}): Promise<Seeded> {
  const result: CommandResult = await runTaskApi('seed', { DATABASE_URL: url, SEED_ROWS: String(ROWS), ...env });
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as Seeded;
}

/** Every column of every row, as text, in id order. */
function dump(url: string): Promise<string[]> {
  return withDb(url, async (client) => {
    const { rows } = await client.query<{ row: string }>('SELECT tasks::text AS row FROM tasks ORDER BY id');
    return rows.map((r) => r.row);
  });
}

describe('seed', () => {
  let a: string;
  let b: string;
  let c: string;
  let seededA: Seeded;

  beforeAll(async () => {
    [a, b, c] = await Promise.all(['seed_a', 'seed_b', 'seed_c'].map((name) => postgres.createDatabase(name))) as [string, string, string];
    const seeded = await Promise.all([seed(a, { SEED: '7' }), seed(b, { SEED: '7' }), seed(c, { SEED: '8' })]);
    seededA = seeded[0];
    expect(seeded.map((s) => s.inserted)).toEqual([ROWS, ROWS, ROWS]);
  });

  it('prints the contract line', () => {
    expect(seededA).toEqual({ event: 'seeded', rows: ROWS, ids: { min: 1, max: ROWS }, inserted: ROWS });
  });

  it('writes the same rows for the same SEED on two databases, and other rows for another SEED', async () => {
    const [rowsA, rowsB, rowsC] = await Promise.all([dump(a), dump(b), dump(c)]);
    expect(rowsA).toHaveLength(ROWS);
    expect(rowsB).toEqual(rowsA);
    expect(rowsC).not.toEqual(rowsA);
    const statuses = await withDb(a, async (client) => (await client.query('SELECT DISTINCT status FROM tasks')).rowCount);
    expect(statuses).toBe(3);
  });

  it('is idempotent, completes a partial table with the same rows, and keeps new ids past N', async () => {
    const original = await dump(a);
    expect(await insertOne(a)).toBe(ROWS + 1);
    expect(await seed(a, { SEED: '7' })).toMatchObject({ rows: ROWS, inserted: 0 });
    await withDb(a, (client) => client.query('DELETE FROM tasks WHERE id BETWEEN 10 AND 20'));
    expect((await seed(a, { SEED: '7' })).inserted).toBe(11);
    expect((await dump(a)).slice(0, ROWS)).toEqual(original);
    expect(await insertOne(a)).toBe(ROWS + 2);
  });

  it('inserts each row once when two seeds run at the same time', async () => {
    const url = await postgres.createDatabase('seed_race');
    const results = await Promise.all([seed(url), seed(url)]);
    expect(results.map((r) => r.inserted).sort((x, y) => x - y)).toEqual([0, ROWS]);
    expect(await dump(url)).toHaveLength(ROWS);
  });
});

/** `seed` with DATABASE_URL=-: `stdin` is written once it started, then closed; its exit code and output. */
function seedFromStdin(stdin: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'fixtures/task-api/main.ts', 'seed'], {
    env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: '-', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.on('error', () => undefined);
  // Written once the process runs: it has loaded and is generating rows while it waits.
  child.once('spawn', () => setTimeout(() => child.stdin.end(stdin), 200));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}

describe('seed with DATABASE_URL=- (started before its database exists)', () => {
  it('reads the URL from stdin and writes the same rows as with the URL given, over several batches', async () => {
    const [given, late] = (await Promise.all(['seed_given', 'seed_stdin'].map((name) => postgres.createDatabase(name)))) as [string, string];
    const env = { SEED: '9', SEED_ROWS: '1234' };
    expect(await seed(given, env)).toMatchObject({ rows: 1234, inserted: 1234 });
    const r = await seedFromStdin(`${late}\n`, env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ event: 'seeded', rows: 1234, ids: { min: 1, max: 1234 }, inserted: 1234 });
    const rows = await dump(late);
    expect(rows).toHaveLength(1234);
    expect(rows).toEqual(await dump(given));
  });

  it('exits 2 when stdin ends before the URL, or holds no postgres URL (its shape said, not its value)', async () => {
    const ended = await seedFromStdin('', {});
    expect(ended.code).toBe(2);
    expect(ended.stderr).toContain('DATABASE_URL=-: stdin ended before the URL line');
    const bad = await seedFromStdin('http://user:secret@127.0.0.1/db\n', {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a postgres:// or postgresql:// URL on stdin\'s first line, found a value of 31 characters');
    expect(bad.stderr).not.toContain('secret');
  });
});

async function insertOne(url: string): Promise<number> {
  return withDb(url, async (client) => {
    const { rows } = await client.query<{ id: string }>("INSERT INTO tasks (title) VALUES ('by hand') RETURNING id");
    return Number(rows[0]?.id);
  });
}
