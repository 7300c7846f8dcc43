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

async function insertOne(url: string): Promise<number> {
  return withDb(url, async (client) => {
    const { rows } = await client.query<{ id: string }>("INSERT INTO tasks (title) VALUES ('by hand') RETURNING id");
    return Number(rows[0]?.id);
  });
}
