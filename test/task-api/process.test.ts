import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_LOCK_KEY } from '../../fixtures/task-api/schema.js';
import { holdAdvisoryLock, lockTasks, replicaBackends, sleep, waitFor, withDb } from './db-helpers.js';
import { call } from './http.js';
import { databaseUrl, freePort, startTestPostgres, type TestPostgres } from './pg.js';
import { isRunning, killAllTaskApis, runTaskApi, startReplica, stopReplica, type CommandResult } from './replica.js';

/** The process contract: environment, the stdout lines, startup, shutdown. */

let postgres: TestPostgres;
let url: string;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('process');
});

afterEach(async () => {
  await killAllTaskApis();
});

afterAll(async () => {
  await postgres?.stop();
});

describe('configuration', () => {
  // Independent processes: run them side by side, then look at each.
  let badEnv: CommandResult;
  let badUrl: CommandResult;
  let badCommand: CommandResult;
  let badFault: CommandResult;
  let noDatabase: CommandResult;

  beforeAll(async () => {
    const closed = databaseUrl(await freePort(), 'process');
    [badEnv, badUrl, badCommand, badFault, noDatabase] = await Promise.all([
      runTaskApi('serve', { POOL_SIZE: 'ten', PORT: '70000', STATEMENT_TIMEOUT_MS: '-5', REPLICA_NAME: 'has space' }),
      runTaskApi('seed', { DATABASE_URL: 'mysql://root:s3cret@db/x' }),
      runTaskApi('migrate', { DATABASE_URL: url }),
      runTaskApi('serve', { DATABASE_URL: url, FAULT_INJECTION: 'leak,no-such-fault' }),
      runTaskApi('serve', { DATABASE_URL: closed, POOL_ACQUIRE_TIMEOUT_MS: '500' }),
    ]);
  });

  it('rejects a bad environment with every problem on stderr and exit code 2', () => {
    expect(badEnv.code).toBe(2);
    expect(badEnv.stdout).toBe('');
    for (const variable of ['DATABASE_URL', 'POOL_SIZE', 'PORT', 'STATEMENT_TIMEOUT_MS', 'REPLICA_NAME']) {
      expect(badEnv.stderr).toContain(`${variable}:`);
    }
  });

  it('never echoes a database URL it cannot parse (it may hold a password)', () => {
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('DATABASE_URL');
    expect(badUrl.stderr).not.toContain('s3cret');
  });

  it('rejects an unknown command, and unknown fault names', () => {
    expect(badCommand.code).toBe(2);
    expect(badCommand.stderr).toContain('usage');
    expect(badFault.code).toBe(2);
    expect(badFault.stderr).toContain('FAULT_INJECTION');
  });

  it('exits 1 when the database cannot be reached at start', () => {
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stdout).toBe('');
    expect(noDatabase.stderr).toContain('serve_failed');
  });
});

describe('startup', () => {
  it('prints exactly one listening line with the real port and pid', async () => {
    const replica = await startReplica({ DATABASE_URL: url, REPLICA_NAME: 'contract' });
    expect(replica.pid).toBe(replica.proc.pid);
    expect(replica.port).toBeGreaterThan(0);
    console.log(`serve: spawn to listening line in ${Math.round(replica.startMs)} ms`);
    expect((await call(replica.url, 'GET', '/health')).body).toEqual({ status: 'ok' });
    expect((await call(replica.url, 'GET', '/faults/leak')).status).toBe(404);
    expect(await stopReplica(replica)).toEqual({ code: 0, signal: null });
    const lines = replica.stdout().trim().split('\n');
    expect(lines).toEqual([JSON.stringify({ event: 'listening', port: replica.port, pid: replica.pid })]);
  });

  it('starts three replicas at once on an empty database, one at a time through the schema lock', async () => {
    const fresh = await postgres.createDatabase('race');
    const lock = await holdAdvisoryLock(fresh, SCHEMA_LOCK_KEY);
    let started = 0;
    const starting = [0, 1, 2].map(async (i) => {
      const replica = await startReplica({ DATABASE_URL: fresh, REPLICA_NAME: `race-${i}`, POOL_SIZE: '3' });
      started += 1;
      return replica;
    });
    try {
      await waitFor('three replicas waiting on the schema lock', async () => {
        const waiting = await Promise.all([0, 1, 2].map((i) => replicaBackends(fresh, `race-${i}`)));
        return waiting.every((b) => b.waitingOnLock === 1);
      }, 15_000);
      expect(started).toBe(0);
    } finally {
      await lock.release();
    }
    const replicas = await Promise.all(starting);
    for (const [i, replica] of replicas.entries()) {
      const created = await call<{ id: number }>(replica.url, 'POST', '/tasks', { json: { title: `from race-${i}` } });
      expect(created.status).toBe(201);
      expect((await replicaBackends(fresh, `race-${i}`)).total).toBeGreaterThanOrEqual(1);
    }
    const count = await withDb(fresh, async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks')).rows[0]?.n);
    expect(count).toBe(3);
    const exits = await Promise.all(replicas.map((r) => stopReplica(r)));
    expect(exits).toEqual(Array(3).fill({ code: 0, signal: null }));
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting connections, finishes the in-flight request, then exits 0', async () => {
    const replica = await startReplica({ DATABASE_URL: url, REPLICA_NAME: 'draining' });
    const created = await call<{ id: number }>(replica.url, 'POST', '/tasks', { json: { title: 'slow to read' } });
    // Two idle keep-alive connections that the shutdown must close rather than wait on.
    await Promise.all([call(replica.url, 'GET', '/health'), call(replica.url, 'GET', '/health')]);
    const lock = await lockTasks(url);
    try {
      const slow = call<{ id: number }>(replica.url, 'GET', `/tasks/${created.body.id}`);
      await waitFor('the request to block on the lock', async () => (await replicaBackends(url, 'draining')).waitingOnLock === 1);
      replica.proc.kill('SIGTERM');
      await waitFor('the shutdown to start', () => replica.stderr().includes('shutdown_started'));
      await waitFor('the port to refuse new connections', () => fetch(`${replica.url}/health`).then(() => false, () => true));
      await sleep(200);
      expect(isRunning(replica.proc)).toBe(true);
      await lock.release();
      const response = await slow;
      expect([response.status, response.body.id]).toEqual([200, created.body.id]);
    } finally {
      await lock.release();
    }
    const exitedBy = performance.now();
    expect(await replica.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - exitedBy).toBeLessThan(2_000);
    expect(replica.stderr()).toContain('"reason":"SIGTERM"');
  });

  it('shuts down the same way when its parent IPC channel disconnects', async () => {
    const replica = await startReplica({ DATABASE_URL: url, REPLICA_NAME: 'orphaned' }, { ipc: true });
    expect((await call(replica.url, 'GET', '/tasks?limit=1')).status).toBe(200);
    replica.proc.disconnect();
    const exit = await Promise.race([replica.exited, sleep(5_000).then(() => 'still running')]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(replica.stderr()).toContain('"reason":"parent_disconnected"');
  });
});
