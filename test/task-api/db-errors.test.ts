import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig, type Config } from '../../fixtures/task-api/config.js';
import { classifyDbError, classifySqlState, isBrokenConnection, markDbStage, type DbErrorClass } from '../../fixtures/task-api/db-errors.js';
import { createPool, inTransaction, query, withClient } from '../../fixtures/task-api/db.js';
import { toErrorResponse } from '../../fixtures/task-api/http-errors.js';
import { createLogger } from '../../fixtures/task-api/log.js';
import { withDb } from './db-helpers.js';
import { databaseUrl, freePort, startTestPostgres, type TestPostgres } from './pg.js';
import { startTcpProxy } from './tcp-proxy.js';

/**
 * Database errors are classified by SQLSTATE, and pg's own code-less errors by where they were
 * raised, never by message text: real errors provoked on a real PostgreSQL, then the table itself.
 */

let postgres: TestPostgres;
let url: string;
const pools: pg.Pool[] = [];
const silent = createLogger('db-errors-test', () => undefined);

function configFor(databaseUrl: string, env: Record<string, string> = {}): Config {
  const result = readConfig({ DATABASE_URL: databaseUrl, REPLICA_NAME: 'db-errors-test', ...env }, []);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function poolFor(databaseUrl: string, env: Record<string, string> = {}): pg.Pool {
  const pool = createPool(configFor(databaseUrl, env), silent);
  pools.push(pool);
  return pool;
}

/** The class of the error `run` fails with (it must fail). */
async function classOf(run: () => Promise<unknown>): Promise<{ kind: DbErrorClass; err: unknown }> {
  const err = await run().then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  return { kind: classifyDbError(err), err };
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('db_errors');
  await withDb(url, async (c) => {
    await c.query('CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)');
    await c.query('INSERT INTO t VALUES (1, 0), (2, 0)');
    await c.query(`CREATE ROLE limited LOGIN PASSWORD 'limited' CONNECTION LIMIT 1`);
  });
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await postgres?.stop();
});

describe('real errors from a real PostgreSQL', () => {
  it('57014 statement_timeout is db_timeout; the connection stays usable', async () => {
    const pool = poolFor(url, { STATEMENT_TIMEOUT_MS: '100', POOL_SIZE: '1' });
    const { kind, err } = await classOf(() => query(pool, 'SELECT pg_sleep(2)'));
    expect([(err as pg.DatabaseError).code, kind]).toEqual(['57014', 'db_timeout']);
    expect(isBrokenConnection(err)).toBe(false);
    expect((await query(pool, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('55P03 lock_not_available is db_timeout', async () => {
    const pool = poolFor(url);
    await withDb(url, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const { kind, err } = await classOf(() => inTransaction(pool, (c) => c.query('LOCK TABLE t IN SHARE MODE NOWAIT')));
      await holder.query('ROLLBACK');
      expect([(err as pg.DatabaseError).code, kind]).toEqual(['55P03', 'db_timeout']);
    });
  });

  it('40P01 deadlock_detected is db_conflict, a 503 to retry (it was a 500)', async () => {
    const pool = poolFor(url, { POOL_SIZE: '2' });
    const lockBoth = (first: number, second: number) =>
      inTransaction(pool, async (c) => {
        await c.query('UPDATE t SET n = n + 1 WHERE id = $1', [first]);
        await c.query('SELECT pg_sleep(0.2)');
        await c.query('UPDATE t SET n = n + 1 WHERE id = $1', [second]);
      });
    const results = await Promise.allSettled([lockBoth(1, 2), lockBoth(2, 1)]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(failures).toHaveLength(1);
    expect([(failures[0] as pg.DatabaseError).code, classifyDbError(failures[0])]).toEqual(['40P01', 'db_conflict']);
    expect(toErrorResponse(failures[0])).toEqual({ statusCode: 503, body: { error: 'db_conflict' }, headers: { 'retry-after': '1' } });
  });

  it('53300 too_many_connections is db_unavailable', async () => {
    const limited = new URL(url);
    limited.username = 'limited';
    limited.password = 'limited';
    const pool = poolFor(limited.toString(), { POOL_SIZE: '2' });
    await withClient(pool, async () => {
      const { kind, err } = await classOf(() => withClient(pool, async () => undefined));
      expect([(err as pg.DatabaseError).code, kind]).toEqual(['53300', 'db_unavailable']);
    });
  });

  it('57P01 on a connection the server terminated is db_unavailable, and that connection is dropped', async () => {
    const pool = poolFor(url, { POOL_SIZE: '1' });
    const { kind, err } = await classOf(() =>
      withClient(pool, async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        await withDb(url, (admin) => admin.query('SELECT pg_terminate_backend($1)', [pid]));
        return c.query('SELECT 1');
      }),
    );
    expect(kind, String(err)).toBe('db_unavailable');
    expect((await query(pool, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('22xxx and 23xxx are invalid_input; 42xxx is a bug', async () => {
    const pool = poolFor(url);
    const bad = await classOf(() => query(pool, `SELECT 'x'::int`));
    const duplicate = await classOf(() => query(pool, 'INSERT INTO t VALUES (1, 0)'));
    const typo = await classOf(() => query(pool, 'SELECT * FROM no_such_table'));
    expect([bad.kind, duplicate.kind, typo.kind]).toEqual(['invalid_input', 'invalid_input', 'unexpected']);
    expect([(bad.err as pg.DatabaseError).code, (duplicate.err as pg.DatabaseError).code, (typo.err as pg.DatabaseError).code]).toEqual(['22P02', '23505', '42P01']);
  });

  it('no pooled connection within the acquire timeout is pool_exhausted', async () => {
    const pool = poolFor(url, { POOL_SIZE: '1', POOL_ACQUIRE_TIMEOUT_MS: '200' });
    await withClient(pool, async () => {
      const { kind } = await classOf(() => query(pool, 'SELECT 1'));
      expect(kind).toBe('pool_exhausted');
    });
  });

  it('a refused connection is db_unavailable, not pool_exhausted', async () => {
    const pool = poolFor(databaseUrl(await freePort(), 'db_errors'), { POOL_SIZE: '1', POOL_ACQUIRE_TIMEOUT_MS: '500' });
    expect((await classOf(() => query(pool, 'SELECT 1'))).kind).toBe('db_unavailable');
  });

  it('a server that stops answering mid-query is db_timeout after the query deadline, and that connection is dropped', async () => {
    const proxy = await startTcpProxy(postgres.port, databaseUrl);
    try {
      const pool = poolFor(proxy.url('db_errors'), { POOL_SIZE: '1', STATEMENT_TIMEOUT_MS: '200' });
      expect((await query(pool, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      proxy.freeze();
      const startedAt = performance.now();
      const { kind, err } = await classOf(() => query(pool, 'SELECT 1'));
      expect(kind, String(err)).toBe('db_timeout');
      // statement_timeout + the 1 s client-side grace.
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(1_150);
      expect(isBrokenConnection(err)).toBe(true);
      await proxy.open();
      expect((await query(pool, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await proxy.close();
    }
  });
});

describe('the classification itself', () => {
  it.each([
    ['57014', 'db_timeout'], ['55P03', 'db_timeout'],
    ['53300', 'db_unavailable'], ['53100', 'db_unavailable'], ['08006', 'db_unavailable'], ['08001', 'db_unavailable'],
    ['08P01', 'db_unavailable'], ['57P01', 'db_unavailable'], ['57P03', 'db_unavailable'], ['25P03', 'db_unavailable'],
    ['28P01', 'db_unavailable'], ['3D000', 'db_unavailable'],
    ['40P01', 'db_conflict'], ['40001', 'db_conflict'],
    ['22001', 'invalid_input'], ['23505', 'invalid_input'],
    ['42601', 'unexpected'], ['XX000', 'unexpected'], ['57000', 'unexpected'], ['25P02', 'unexpected'],
  ] as const)('SQLSTATE %s is %s', (state, kind) => {
    expect(classifySqlState(state)).toBe(kind);
  });

  it('goes by the SQLSTATE whatever the message says', () => {
    const lying = Object.assign(new Error('timeout exceeded when trying to connect'), { code: '40P01' });
    expect(classifyDbError(lying)).toBe('db_conflict');
    const wrapped = new Error('Connection terminated due to connection timeout', { cause: Object.assign(new Error('x'), { code: '53300' }) });
    expect(classifyDbError(wrapped)).toBe('db_unavailable');
  });

  it('does not take an error for a database failure because of its message or code alone', () => {
    expect(classifyDbError(new Error('timeout exceeded when trying to connect'))).toBe('unexpected');
    expect(classifyDbError(new Error('Connection terminated unexpectedly'))).toBe('unexpected');
    // A client that hung up mid-body (ECONNRESET from the HTTP side) is not the database.
    expect(classifyDbError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))).toBe('unexpected');
  });

  it('classifies code-less driver errors by the stage that raised them', () => {
    const at = (stage: 'queued' | 'connecting' | 'querying', err: Error): DbErrorClass => (markDbStage(err, stage), classifyDbError(err));
    expect(at('queued', new Error('any text'))).toBe('pool_exhausted');
    expect(at('queued', new Error('any text', { cause: new Error('connect timeout') }))).toBe('db_unavailable');
    expect(at('queued', Object.assign(new Error('any text'), { code: 'ECONNREFUSED' }))).toBe('db_unavailable');
    expect(at('connecting', new Error('any text'))).toBe('db_unavailable');
    expect(at('querying', new Error('any text'))).toBe('db_unavailable');
    // Bugs (TypeError and the like) are never marked, wherever they were thrown.
    expect(at('querying', new TypeError('x is not a function'))).toBe('unexpected');
  });
});
