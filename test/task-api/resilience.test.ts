import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockTasks, replicaBackends, sleep, waitFor } from './db-helpers.js';
import { call, metricValue, type HttpResult } from './http.js';
import { databaseUrl, startTestPostgres, type TestPostgres } from './pg.js';
import { isRunning, killAllTaskApis, runTaskApi, startReplica, stopReplica, type Replica } from './replica.js';
import { startTcpProxy } from './tcp-proxy.js';

/** The service under database trouble: a full pool, slow statements, a database gone. */

interface Unavailable {
  status?: string;
  reason?: string;
  error?: string;
}

let postgres: TestPostgres;
let url: string;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('resilience');
  const seeded = await runTaskApi('seed', { DATABASE_URL: url, SEED_ROWS: '100' });
  expect(seeded.code, seeded.stderr).toBe(0);
});

afterEach(async () => {
  await killAllTaskApis();
});

afterAll(async () => {
  await postgres?.stop();
});

async function scrape(replica: Replica, name: string): Promise<number | undefined> {
  return metricValue((await call(replica.url, 'GET', '/metrics')).text, name);
}

/**
 * Waits until `count` of the promises settled (or `ms` passed), then a short grace for any
 * more; those still pending come back as undefined.
 */
async function settledWithin<T>(promises: Promise<T>[], count: number, ms: number): Promise<Array<T | undefined>> {
  const results: Array<T | undefined> = promises.map(() => undefined);
  let settled = 0;
  promises.forEach((p, i) => void p.then((r) => ((results[i] = r), (settled += 1))));
  await waitFor(`${count} responses`, () => settled >= count, ms, 10).catch(() => undefined);
  await sleep(200);
  return [...results];
}

describe('pool exhaustion', () => {
  const ACQUIRE_MS = 300;

  /**
   * Queues requests on the exhausted pool and scrapes db_pool_wait_count while they wait. They
   * wait only ACQUIRE_MS, so on a loaded machine a scrape can miss them: then try again.
   */
  async function waitingCountWhileQueued(replica: Replica): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const queued = Array.from({ length: 3 }, () => call(replica.url, 'GET', '/tasks/2'));
      let seen = 0;
      await waitFor('a waiting request', async () => (seen = (await scrape(replica, 'db_pool_wait_count')) ?? 0) > 0, ACQUIRE_MS, 10)
        .catch(() => undefined);
      expect((await Promise.all(queued)).map((r) => r.status)).toEqual([503, 503, 503]);
      if (seen > 0) return seen;
    }
    return 0;
  }

  it('answers 503 pool_exhausted with Retry-After within the acquire timeout, then recovers', async () => {
    const replica = await startReplica({ DATABASE_URL: url, POOL_SIZE: '2', POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS), REPLICA_NAME: 'exhaust' });
    expect((await call(replica.url, 'GET', '/tasks/1')).status).toBe(200);
    const lock = await lockTasks(url);
    let blocked: Promise<HttpResult<unknown>>[] = [];
    try {
      const burst = Array.from({ length: 8 }, () => call<Unavailable>(replica.url, 'GET', '/tasks/1'));
      const settled = await settledWithin(burst, 6, ACQUIRE_MS + 1_500);
      const rejected = settled.filter((r) => r !== undefined);
      blocked = burst.filter((_, i) => settled[i] === undefined);
      expect(blocked).toHaveLength(2);
      for (const r of rejected) {
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.body).toEqual({ error: 'pool_exhausted' });
        expect(r.elapsedMs).toBeGreaterThanOrEqual(ACQUIRE_MS - 50);
        expect(r.elapsedMs).toBeLessThan(ACQUIRE_MS + 1_000);
      }
      expect(await replicaBackends(url, 'exhaust')).toEqual({ total: 2, waitingOnLock: 2 });
      expect(await scrape(replica, 'db_pool_active')).toBe(2);
      expect(await scrape(replica, 'db_pool_idle')).toBe(0);

      expect(await waitingCountWhileQueued(replica)).toBeGreaterThan(0);
      const health = await call<Unavailable>(replica.url, 'GET', '/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable', reason: 'pool_exhausted' });
      expect(health.elapsedMs).toBeLessThan(ACQUIRE_MS + 1_000);
    } finally {
      await lock.release();
    }
    expect((await Promise.all(blocked)).map((r) => r.status)).toEqual([200, 200]);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => call(replica.url, 'GET', `/tasks/${i + 1}`)));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await call(replica.url, 'GET', '/health')).status).toBe(200);
    expect(await scrape(replica, 'db_pool_active')).toBe(0);
    expect(await scrape(replica, 'db_pool_wait_count')).toBe(0);
    expect(await scrape(replica, 'db_pool_total')).toBe(2);
  });

  it('answers 503 db_timeout when a statement outlives STATEMENT_TIMEOUT_MS', async () => {
    const replica = await startReplica({ DATABASE_URL: url, STATEMENT_TIMEOUT_MS: '400', REPLICA_NAME: 'slow' });
    const lock = await lockTasks(url);
    try {
      const response = await call<Unavailable>(replica.url, 'PATCH', '/tasks/3', { json: { priority: 2 } });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ error: 'db_timeout' });
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.elapsedMs).toBeGreaterThanOrEqual(350);
      expect(response.elapsedMs).toBeLessThan(3_000);
    } finally {
      await lock.release();
    }
    expect((await call(replica.url, 'PATCH', '/tasks/3', { json: { priority: 2 } })).status).toBe(200);
  });
});

describe('database unreachable or stopped', () => {
  const ACQUIRE_MS = 500;
  /** A probe must answer within the acquire timeout plus a little, whatever the database does. */
  const PROBE_BOUND_MS = ACQUIRE_MS + 1_000;

  async function expectUnavailable(replica: Replica, reasons: string[]): Promise<void> {
    const health = await call<Unavailable>(replica.url, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('unavailable');
    expect(reasons).toContain(health.body.reason);
    expect(health.elapsedMs).toBeLessThan(PROBE_BOUND_MS);
  }

  it('reports 503 while the database port is closed or frozen, and recovers', async () => {
    const proxy = await startTcpProxy(postgres.port, databaseUrl);
    try {
      const replica = await startReplica({ DATABASE_URL: proxy.url('resilience'), POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS), REPLICA_NAME: 'proxied' });
      expect((await call(replica.url, 'GET', '/health')).status).toBe(200);

      await proxy.close();
      await expectUnavailable(replica, ['db_unavailable']);
      const read = await call<Unavailable>(replica.url, 'GET', '/tasks/1');
      expect([read.status, read.body.error, read.headers.get('retry-after')]).toEqual([503, 'db_unavailable', '1']);

      await proxy.open();
      await waitFor('health after the port reopened', async () => (await call(replica.url, 'GET', '/health')).status === 200);

      proxy.freeze();
      await expectUnavailable(replica, ['timeout', 'db_unavailable', 'db_timeout']);
      await expectUnavailable(replica, ['timeout', 'db_unavailable', 'db_timeout', 'pool_exhausted']);

      await proxy.open();
      await waitFor('health after the freeze', async () => (await call(replica.url, 'GET', '/health')).status === 200, 10_000);
      expect(isRunning(replica.proc)).toBe(true);
      expect(await stopReplica(replica)).toEqual({ code: 0, signal: null });
    } finally {
      await proxy.close();
    }
  });

  it('reports 503 when its database is stopped, without crashing', async () => {
    const own = await startTestPostgres();
    try {
      const replica = await startReplica({ DATABASE_URL: own.url, POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS), REPLICA_NAME: 'orphan' });
      const created = await call(replica.url, 'POST', '/tasks', { json: { title: 'before the outage' } });
      expect(created.status).toBe(201);
      expect((await call(replica.url, 'GET', '/health')).status).toBe(200);

      await own.stop();
      await expectUnavailable(replica, ['db_unavailable']);
      const read = await call<Unavailable>(replica.url, 'GET', '/tasks/1');
      expect([read.status, read.body.error]).toEqual([503, 'db_unavailable']);
      await sleep(300);
      expect(isRunning(replica.proc)).toBe(true);
      expect(replica.stderr()).not.toContain('unexpected_error');
      expect(await stopReplica(replica)).toEqual({ code: 0, signal: null });
    } finally {
      await own.stop();
    }
  });
});
