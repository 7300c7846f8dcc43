import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../fixtures/task-api/config.js';
import { lockTasks, sleep } from './db-helpers.js';
import { call } from './http.js';
import { startTestPostgres, type TestPostgres } from './pg.js';
import { killAllTaskApis, startReplica, stopReplica, type Replica } from './replica.js';
import { slowRequest } from './slow-client.js';

/**
 * Slow clients on real loopback sockets: a body at 10 bytes/s, headers trickling in (slowloris),
 * connections that say nothing, keep-alive connections left idle. Short timeouts keep this fast.
 */

const REQUEST_TIMEOUT_MS = 1_500;
const HEADERS_TIMEOUT_MS = 800;
const KEEP_ALIVE_TIMEOUT_MS = 600;
const STATEMENT_TIMEOUT_MS = 3_000;
const POOL_ACQUIRE_TIMEOUT_MS = 200;

/** Past a timeout, how late the answer may come (the connection check interval, plus a loaded machine). */
const LATE_MS = 1_500;
/** No slow client runs longer than this, however the server behaves. */
const CLIENT_MAX_MS = 6_000;

let postgres: TestPostgres;
let url: string;
let replica: Replica;

const slowBodyHead = (length: number): string =>
  `POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const SLOW_BODY = JSON.stringify({ title: 'x'.repeat(190) });
const SLOW_HEADERS = `X-Slow: ${'a'.repeat(500)}\r\n\r\n`;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('timeouts');
  replica = await startReplica({
    DATABASE_URL: url,
    REPLICA_NAME: 'timeouts',
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    POOL_ACQUIRE_TIMEOUT_MS: String(POOL_ACQUIRE_TIMEOUT_MS),
  });
});

afterAll(async () => {
  await killAllTaskApis();
  await postgres?.stop();
});

describe('slow clients are cut off', () => {
  it('answers 408 to a body that trickles in, once REQUEST_TIMEOUT_MS has passed, and closes', async () => {
    const result = await slowRequest({ port: replica.port, head: slowBodyHead(SLOW_BODY.length), drip: SLOW_BODY, everyMs: 100, maxMs: CLIENT_MAX_MS });
    console.log(`slow body: ${result.status ?? 'no answer'} after ${Math.round(result.elapsedMs)} ms, ${result.bytesSent} bytes sent`);
    expect(result.closedByServer).toBe(true);
    expect(result.status).toBe(408);
    expect(result.body).toEqual({ error: 'request_timeout', message: expect.stringContaining('1500 ms') });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(result.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + LATE_MS);
  });

  it('answers 408 to headers that trickle in (slowloris), once HEADERS_TIMEOUT_MS has passed', async () => {
    const result = await slowRequest({ port: replica.port, head: 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', drip: SLOW_HEADERS, everyMs: 50, maxMs: CLIENT_MAX_MS });
    console.log(`slow headers: ${result.status ?? 'no answer'} after ${Math.round(result.elapsedMs)} ms`);
    expect(result.closedByServer).toBe(true);
    expect(result.status).toBe(408);
    expect(result.body).toEqual({ error: 'request_timeout', message: expect.stringContaining('800 ms') });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(result.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + LATE_MS);
  });

  it('closes a connection that never sends a byte within HEADERS_TIMEOUT_MS', async () => {
    const result = await slowRequest({ port: replica.port, head: '', maxMs: CLIENT_MAX_MS });
    expect(result.closedByServer).toBe(true);
    expect(result.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + LATE_MS);
  });

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const result = await slowRequest({ port: replica.port, head: 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', maxMs: CLIENT_MAX_MS });
    expect(result.status).toBe(200);
    // Advertised in whole seconds (rounded down); Node then holds the socket ~1 s longer so that a
    // client never reuses a connection the server is closing.
    expect(result.response).toMatch(/\r\nkeep-alive: timeout=0\r\n/i);
    expect(result.closedByServer).toBe(true);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    expect(result.elapsedMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1_000 + LATE_MS);
  });

  it('answers a request that arrived whole however long its handler waits (the request timeout covers arrival only)', async () => {
    const lock = await lockTasks(url);
    try {
      const pending = call(replica.url, 'GET', '/tasks?limit=1');
      // Past the request timeout and a check of it, well within the statement timeout.
      await sleep(REQUEST_TIMEOUT_MS + 500);
      await lock.release();
      expect((await pending).status).toBe(200);
    } finally {
      await lock.release();
    }
  });

  it('still serves a body sent at a normal pace, and slow clients cost no 5xx', async () => {
    const result = await slowRequest({ port: replica.port, head: `${slowBodyHead(SLOW_BODY.length)}${SLOW_BODY.slice(0, -10)}`, drip: SLOW_BODY.slice(-10), everyMs: 50, maxMs: CLIENT_MAX_MS });
    expect(result.status).toBe(201);
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    expect(metrics.split('\n').filter((l) => /status="5\d\d"/.test(l))).toEqual([]);
    expect(replica.stderr()).not.toContain('unexpected_error');
  });
});

describe('a SIGTERM does not wait for slow clients', () => {
  afterEach(async () => {
    await killAllTaskApis();
  });

  it('exits 0 at once while a body and headers trickle in, under the default timeouts', async () => {
    const draining = await startReplica({ DATABASE_URL: url, REPLICA_NAME: 'slow-drain' });
    let started = 0;
    const onStarted = (): void => void (started += 1);
    const upload = slowRequest({ port: draining.port, head: slowBodyHead(SLOW_BODY.length), drip: SLOW_BODY, everyMs: 100, maxMs: CLIENT_MAX_MS, onStarted });
    const loris = slowRequest({ port: draining.port, head: 'GET /health HTTP/1.1\r\n', drip: SLOW_HEADERS, everyMs: 100, maxMs: CLIENT_MAX_MS, onStarted });
    while (started < 2) await sleep(10);
    await sleep(300);
    const signalledAt = performance.now();
    const exit = await stopReplica(draining, 'SIGTERM', CLIENT_MAX_MS);
    const exitMs = performance.now() - signalledAt;
    console.log(`SIGTERM with two slow clients: exit ${exit.code ?? exit.signal} after ${Math.round(exitMs)} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(2_000);
    for (const r of await Promise.all([upload, loris])) expect(r.closedByServer).toBe(true);
  });
});

describe('timeout configuration', () => {
  const base = { DATABASE_URL: 'postgres://u@127.0.0.1/db' };

  it('defaults to a few seconds, like a production service', () => {
    const result = readConfig(base, []);
    expect(result.ok && result.config.http).toEqual({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, connectionTimeoutMs: 30_000 });
  });

  it('rejects headers allowed longer than the whole request, and out-of-range values', () => {
    const result = readConfig({ ...base, REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000', KEEP_ALIVE_TIMEOUT_MS: '0', CONNECTION_TIMEOUT_MS: 'soon' }, []);
    expect(result.ok).toBe(false);
    const variables = result.ok ? [] : result.problems.map((p) => p.variable);
    expect(variables.sort()).toEqual(['CONNECTION_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS']);
  });

  it('keeps the idle-socket timeout longer than the longest request handler', () => {
    const slowDb = readConfig({ ...base, STATEMENT_TIMEOUT_MS: '60000' }, []);
    expect(slowDb.ok && slowDb.config.http.connectionTimeoutMs).toBeGreaterThan(60_000 + 2_000);
    const tooShort = readConfig({ ...base, STATEMENT_TIMEOUT_MS: '60000', CONNECTION_TIMEOUT_MS: '30000' }, []);
    expect(tooShort.ok ? [] : tooShort.problems).toEqual([
      expect.objectContaining({ variable: 'CONNECTION_TIMEOUT_MS', found: '"30000"' }),
    ]);
  });
});
