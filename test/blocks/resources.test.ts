import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { OBSERVER_APPLICATION_NAME } from '../../harness/observe/pg-activity.js';
import { ResourceSampler, type ProbeFailure } from '../../harness/observe/resources.js';
import type { ResourceSeries } from '../../harness/observe/series.js';
import { snapshotDetail, takeResourceSnapshot } from '../../harness/observe/snapshot.js';
import { freePort } from '../../harness/platform/local/free-port.js';
import { replicaBackends, sleep, waitFor } from '../task-api/db-helpers.js';
import { call } from '../task-api/http.js';
import { databaseUrl, startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { killAllTaskApis, runTaskApi, startReplica, type Replica } from '../task-api/replica.js';
import { startTcpProxy } from '../task-api/tcp-proxy.js';

/** The resource sampler and the forensic snapshot against real replicas and a real PostgreSQL. */

let postgres: TestPostgres;
let url: string;
let a: Replica;
let b: Replica;
const target = (r: Replica, name: string) => ({ name, pid: r.pid, port: r.port });

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('resources');
  expect((await runTaskApi('seed', { DATABASE_URL: url, SEED_ROWS: '50' })).code).toBe(0);
  const env = { DATABASE_URL: url, POOL_SIZE: '4', POOL_ACQUIRE_TIMEOUT_MS: '300', FAULT_INJECTION: 'leak' };
  [a, b] = await Promise.all([startReplica({ ...env, REPLICA_NAME: 'replica-a' }), startReplica({ ...env, REPLICA_NAME: 'replica-b' })]);
  await Promise.all([call(a.url, 'GET', '/tasks/1'), call(b.url, 'GET', '/tasks/1')]);
});

afterAll(async () => {
  await killAllTaskApis();
  await postgres?.stop();
});

function last(series: ResourceSeries[], resource: string, replica: string): number | undefined {
  return series.find((s) => s.resource === resource && s.replica === replica)?.points.at(-1)?.[1];
}

const observers = async (): Promise<number> => (await replicaBackends(url, OBSERVER_APPLICATION_NAME)).total;
/** A closed session leaves pg_stat_activity when its backend exits, a moment after the client left. */
const noObserverLeft = (): Promise<void> => waitFor('the observer session to end', async () => (await observers()) === 0, 3000);

describe('ResourceSampler', () => {
  it('records pool gauges, RSS, open fds and database sessions per replica and in total; a leak shows', async () => {
    const sampler = new ResourceSampler({ replicas: () => [target(a, 'replica-a'), target(b, 'replica-b')], databaseUrl: url, clock: new SystemClock(), intervalMs: 200, probeTimeoutMs: 2000 });
    sampler.start();
    await sleep(500);
    expect((await call(a.url, 'POST', '/faults/leak', { json: { connections: 4 } })).status).toBe(200);
    await sleep(500);
    await sampler.stop();
    const series = sampler.series();
    expect(last(series, 'db_pool_active', 'replica-a')).toBe(4);
    expect(last(series, 'db_pool_total', 'replica-a')).toBe(4);
    expect(last(series, 'db_pool_active', 'replica-b')).toBe(0);
    expect(last(series, 'db_connections', 'replica-a')).toBe(4);
    expect(last(series, 'db_connections', 'replica-b')).toBeGreaterThanOrEqual(1);
    expect(last(series, 'db_connections', 'total')).toBeGreaterThanOrEqual(5);
    expect(last(series, 'rss_bytes', 'replica-a')).toBeGreaterThan(10 * 1024 * 1024);
    expect(last(series, 'open_fds', 'replica-b')).toBeGreaterThan(5);
    const first = series.find((s) => s.resource === 'db_pool_active' && s.replica === 'replica-a')?.points ?? [];
    expect(first[0]?.[1]).toBe(0);
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(first.length).toBeLessThanOrEqual(7);
    expect(sampler.probeFailures).toBe(0);
    await noObserverLeft();
  });

  it('survives failing probes: a gone process, a closed port, a throwing replica list', async () => {
    const failures: ProbeFailure[] = [];
    let calls = 0;
    const replicas = () => {
      calls += 1;
      if (calls === 2) throw new Error('platform hiccup');
      return [{ name: 'ghost', pid: 2 ** 22 + 1, port: 1 }, { name: 'starting' }, target(b, 'replica-b')];
    };
    const sampler = new ResourceSampler({ replicas, databaseUrl: url, clock: new SystemClock(), intervalMs: 100, onProbeFailure: (f) => failures.push(f) });
    sampler.start();
    await sleep(450);
    await sampler.stop();
    const series = sampler.series();
    expect(series.filter((s) => s.replica === 'ghost').map((s) => s.resource)).toEqual(['db_connections']);
    expect(series.filter((s) => s.replica === 'starting').map((s) => s.resource)).toEqual(['db_connections']);
    expect(last(series, 'rss_bytes', 'replica-b')).toBeGreaterThan(0);
    expect(new Set(failures.filter((f) => f.replica === 'ghost').map((f) => f.probe))).toEqual(new Set(['rss', 'fds', 'pool']));
    expect(failures.some((f) => f.error.includes('platform hiccup'))).toBe(true);
    expect(failures.some((f) => f.replica === 'starting')).toBe(false);
  });

  it('bounds every probe when the database stops answering, on one connection, and reconnects', async () => {
    const proxy = await startTcpProxy(postgres.port, databaseUrl);
    const failures: ProbeFailure[] = [];
    const sampler = new ResourceSampler({ replicas: () => [target(b, 'replica-b')], databaseUrl: proxy.url('resources'), clock: new SystemClock(), intervalMs: 200, onProbeFailure: (f) => failures.push(f) });
    try {
      sampler.start();
      await sleep(500);
      expect(await observers()).toBe(1);
      proxy.freeze();
      await sleep(1000);
      const frozenTotal = sampler.series().find((s) => s.resource === 'db_connections' && s.replica === 'total')?.points.length ?? 0;
      await proxy.open();
      await waitFor('database points again', () => (sampler.series().find((s) => s.replica === 'total')?.points.length ?? 0) > frozenTotal, 3000);
      expect(await observers()).toBeLessThanOrEqual(1);
    } finally {
      await sampler.stop();
      await proxy.close();
    }
    expect(failures.filter((f) => f.probe === 'database').length).toBeGreaterThanOrEqual(3);
    const rss = sampler.series().find((s) => s.resource === 'rss_bytes')?.points ?? [];
    const gaps = rss.slice(1).map(([t], i) => t - (rss[i]?.[0] ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(400);
    await noObserverLeft();
  });

  it('stops by itself after maxSamples', async () => {
    const sampler = new ResourceSampler({ replicas: () => [], databaseUrl: url, clock: new SystemClock(), intervalMs: 50, maxSamples: 3 });
    sampler.start();
    await sleep(400);
    expect(sampler.series()[0]?.points).toHaveLength(3);
    await sampler.stop();
  });
});

describe('resource snapshot', () => {
  it('captures per-replica RSS, fds and pool gauges, and sessions by application and state', async () => {
    const snapshot = await takeResourceSnapshot([target(a, 'replica-a'), target(b, 'replica-b')], url);
    const [ra, rb] = snapshot.replicas;
    expect(ra).toMatchObject({ name: 'replica-a', pid: a.pid, pool: { db_pool_total: 4, db_pool_active: 4 }, errors: {} });
    expect(rb?.rssBytes).toBeGreaterThan(0);
    expect(rb?.openFds).toBeGreaterThan(0);
    if ('error' in snapshot.database) throw new Error(snapshot.database.error);
    expect(snapshot.database.byApplication['replica-a']).toBe(4);
    expect(snapshot.database.byState['idle']).toBeGreaterThanOrEqual(5);
    expect(snapshot.database.byApplication[OBSERVER_APPLICATION_NAME]).toBeUndefined();
    const detail = snapshotDetail(snapshot);
    expect(detail).toMatchObject({ 'replica-a.db_pool_active': 4, 'db.app.replica-a': 4 });
    expect(typeof detail['replica-b.rss_bytes']).toBe('number');
    await noObserverLeft();
  });

  it('reports an unreachable database as an error, not a throw', async () => {
    const snapshot = await takeResourceSnapshot([], databaseUrl(await freePort(), 'x'), 500);
    expect(snapshot.database).toHaveProperty('error');
    expect(snapshotDetail(snapshot)['db.error']).toEqual(expect.any(String));
  });
});
