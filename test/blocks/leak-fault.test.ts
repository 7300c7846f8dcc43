import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../fixtures/task-api/leak-fault.js';
import { replicaBackends, sleep, waitFor } from '../task-api/db-helpers.js';
import { call, metricValue } from '../task-api/http.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { killAllTaskApis, runTaskApi, startReplica, stopReplica, type Replica } from '../task-api/replica.js';

/** The Task API's `leak` fault, on a real PostgreSQL and a real replica process. */

const POOL_SIZE = 3;
const ACQUIRE_MS = 300;

let postgres: TestPostgres;
let url: string;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('leak');
  const seeded = await runTaskApi('seed', { DATABASE_URL: url, SEED_ROWS: '50' });
  expect(seeded.code, seeded.stderr).toBe(0);
});

afterEach(async () => {
  await killAllTaskApis();
});

afterAll(async () => {
  await postgres?.stop();
});

function leaky(name: string): Promise<Replica> {
  return startReplica({ DATABASE_URL: url, POOL_SIZE: String(POOL_SIZE), POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS), REPLICA_NAME: name, FAULT_INJECTION: 'leak' });
}

async function gauge(replica: Replica, name: string): Promise<number | undefined> {
  return metricValue((await call(replica.url, 'GET', '/metrics')).text, name);
}

describe('leak fault', () => {
  it('leaks K = pool size connections for good: 503 with Retry-After within the acquire timeout, pool full', async () => {
    const replica = await leaky('leaky');
    expect((await call(replica.url, 'GET', '/tasks/1')).status).toBe(200);
    const leak = await call(replica.url, 'POST', '/faults/leak', { json: { connections: POOL_SIZE } });
    expect(leak.status).toBe(200);
    expect(leak.body).toEqual({ requested: POOL_SIZE, leaked: POOL_SIZE, held: POOL_SIZE });
    // Logged before the response, but stderr is another pipe: it may arrive a moment later.
    await waitFor('the fault_leak_applied log line', () => replica.stderr().includes('fault_leak_applied'), 3000);

    for (const attempt of [1, 2]) {
      const res = await call<{ error?: string }>(replica.url, 'GET', '/tasks/1');
      expect(res.status, `attempt ${attempt}`).toBe(503);
      expect(res.body.error).toBe('pool_exhausted');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.elapsedMs).toBeGreaterThanOrEqual(ACQUIRE_MS - 20);
      expect(res.elapsedMs).toBeLessThan(ACQUIRE_MS + 1000);
      await sleep(500);
    }
    expect(await gauge(replica, 'db_pool_total')).toBe(POOL_SIZE);
    expect(await gauge(replica, 'db_pool_active')).toBe(POOL_SIZE);
    expect(await gauge(replica, 'db_pool_idle')).toBe(0);
    expect((await replicaBackends(url, 'leaky')).total).toBe(POOL_SIZE);
    expect((await call(replica.url, 'GET', '/health')).status).toBe(503);
    // The leak is the service's bug, not its death: a graceful shutdown still ends cleanly.
    expect(await stopReplica(replica)).toEqual({ code: 0, signal: null });
  });

  it('a second leak takes what is left and says so', async () => {
    const replica = await leaky('leaky-twice');
    expect((await call(replica.url, 'POST', '/faults/leak', { json: { connections: 2 } })).body).toEqual({ requested: 2, leaked: 2, held: 2 });
    const second = await call(replica.url, 'POST', '/faults/leak', { json: { connections: 2 } });
    expect(second.body).toEqual({ requested: 2, leaked: 1, held: 3 });
    expect(await gauge(replica, 'db_pool_active')).toBe(POOL_SIZE);
  });

  it('rejects a malformed request with a field-named 400 and leaks nothing', async () => {
    const replica = await leaky('leaky-strict');
    for (const json of [{ connections: 0 }, { connections: 1.5 }, { connections: '2' }, { connections: 1001 }, {}, { connections: 1, extra: true }, [1]]) {
      const res = await call<{ error?: string; field?: string }>(replica.url, 'POST', '/faults/leak', { json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.error).toBe('validation');
    }
    expect((await call(replica.url, 'POST', '/faults/leak', { raw: 'connections=1', contentType: 'text/plain' })).status).toBe(415);
    expect(await gauge(replica, 'db_pool_active')).toBe(0);
    expect((await call(replica.url, 'GET', '/tasks/1')).status).toBe(200);
  });

  it('does not exist without FAULT_INJECTION=leak', async () => {
    const replica = await startReplica({ DATABASE_URL: url, POOL_SIZE: String(POOL_SIZE), REPLICA_NAME: 'sound' });
    const res = await call<{ error?: string }>(replica.url, 'POST', '/faults/leak', { json: { connections: 1 } });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
    expect(await gauge(replica, 'db_pool_active')).toBe(0);
    expect(replica.stderr()).not.toContain('fault_injection_enabled');
  });

  it('answers loopback clients only', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', 'fe80::1', undefined]) expect(isLoopbackAddress(address), String(address)).toBe(false);
  });
});
