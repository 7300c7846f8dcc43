import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { seededRandom } from '../../harness/core/random.js';
import { createInjector, type FaultContext } from '../../harness/faults/index.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import type { Deployment } from '../../harness/platform/types.js';
import type { FaultPlan } from '../../harness/scenario/plan.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { waitFor } from '../helpers/leftovers.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';

/** One request through the Service: status, elapsed ms, Retry-After. */
async function get(url: string): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/tasks/1`, { signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after') };
}

async function poolGauges(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(db_pool_\w+) (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('faults on the local platform (real PostgreSQL, real replicas)', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  const clock = new SystemClock();
  const journal = new Journal(clock);
  let platform: LocalPlatform;
  let deployment: Deployment;
  let ctx: FaultContext;

  beforeAll(async () => {
    postgres = await startTestPostgres(60);
    const url = await postgres.createDatabase('faults');
    admin = new pg.Client({ connectionString: url, application_name: 'test-admin' });
    await admin.connect();
    const plan = localPlatformPlan({
      replicas: 2,
      database: { kind: 'url', url },
      pool: { size: 3, acquireTimeoutMs: 500, statementTimeoutMs: 2000 },
      seedRows: 200,
      faultInjection: ['leak'],
      databaseProxy: true,
    });
    platform = new LocalPlatform(plan, { journal }, clock);
    deployment = await platform.deploy(new AbortController().signal);
    ctx = { platform, deployment, journal, clock, random: seededRandom(7) };
  });
  afterAll(async () => {
    await platform?.teardown();
    await admin?.end();
    await postgres?.stop();
  });

  const faultSessions = async (): Promise<number> =>
    Number((await admin.query("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'gameday-fault-%'")).rows[0].count);
  const tableLocks = async (): Promise<number> =>
    Number((await admin.query("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'tasks' AND l.mode = 'AccessExclusiveLock'")).rows[0].count);

  /** Every test starts from a healthy Service (the previous fault's effects may take a probe period to clear). */
  const serviceHealthy = (): Promise<boolean> =>
    waitFor(async () => (await get(deployment.serviceUrl).catch(() => ({ status: 0 }))).status === 200 && deployment.replicas().every((r) => r.ready), 10_000, 100);

  it('lock: pools fill, requests get 503 + Retry-After instead of hanging; all clears on recover, recover is idempotent', async () => {
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'lock', atMs: 0, durationMs: 1, mode: 'lock', replicas: { mode: 'one' } });
    expect((await get(deployment.serviceUrl)).status).toBe(200);
    const records = await fault.apply(ctx);
    expect(await tableLocks()).toBe(1);
    const replica = deployment.replicas().find((r) => r.port !== undefined)!;
    const inFlight = Promise.all(Array.from({ length: 12 }, () => get(`http://127.0.0.1:${replica.port}`)));
    await new Promise((r) => setTimeout(r, 300));
    const gauges = await poolGauges(replica.port!);
    expect(gauges['db_pool_total']).toBe(3);
    expect(gauges['db_pool_active']).toBe(3);
    expect(gauges['db_pool_wait_count']).toBeGreaterThan(0);
    const during = await inFlight;
    expect(during.some((r) => r.status === 503 && r.retryAfter !== null)).toBe(true);
    expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(5000); // acquire 0.5 s, statement 2 s: never a hang

    await fault.recover(records, ctx);
    await fault.recover(records, ctx);
    expect(journal.events().filter((e) => e.type === 'pool.released' && e.fault === 'lock')).toHaveLength(1);
    expect(await waitFor(async () => (await tableLocks()) === 0 && (await faultSessions()) === 0, 3000)).toBe(true);
    expect(await serviceHealthy()).toBe(true);
    const after = await Promise.all(Array.from({ length: 6 }, () => get(deployment.serviceUrl)));
    expect(after.every((r) => r.status === 200)).toBe(true);
  });

  it('hold: takes every free connection slot so a new session is refused; released on recover', async () => {
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'hold', atMs: 0, durationMs: 1, mode: 'hold', replicas: { mode: 'one' } });
    const records = await fault.apply(ctx);
    expect(await faultSessions()).toBeGreaterThan(30);
    const extra = new pg.Client({ connectionString: await postgres.createDatabase('unused').catch(() => postgres.url), connectionTimeoutMillis: 2000 });
    await expect(extra.connect()).rejects.toThrow(/too many|reserved|remaining connection slots/i);
    await extra.end().catch(() => undefined);
    await fault.recover(records, ctx);
    expect(await waitFor(async () => (await faultSessions()) === 0, 3000)).toBe(true);
  });

  it('network-delay: adds the latency to every query on the replica → PostgreSQL path, and nothing once recovered', async () => {
    const plan: FaultPlan = { kind: 'network-delay', name: 'slow-db', atMs: 0, durationMs: 1, selector: 'database', direction: 'to', delay: { latencyMs: 300, jitterMs: 0, correlation: 0 } };
    const fault = createInjector(plan);
    expect(await serviceHealthy()).toBe(true);
    const before = await get(deployment.serviceUrl);
    const records = await fault.apply(ctx);
    const slow = await get(deployment.serviceUrl);
    await fault.recover(records, ctx);
    const fast = await get(deployment.serviceUrl);
    expect(before.status).toBe(200);
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(300);
    expect(slow.ms - before.ms).toBeLessThan(600);
    expect(fast.ms).toBeLessThan(150);
  });

  it('leak: the chosen replica checks out its whole pool and stays broken (503) until replaced', async () => {
    expect(await serviceHealthy()).toBe(true);
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'leak', atMs: 0, durationMs: 1, mode: 'leak', replicas: { mode: 'one' } });
    const records = await fault.apply(ctx);
    expect(records).toHaveLength(1);
    const victim = deployment.replicas().find((r) => r.name === records[0]!.target)!;
    const direct = await fetch(`http://127.0.0.1:${victim.port}/tasks/1`);
    expect(direct.status).toBe(503);
    expect(direct.headers.get('retry-after')).not.toBeNull();
    await fault.recover(records, ctx);
    const still = await fetch(`http://127.0.0.1:${victim.port}/tasks/1`);
    expect(still.status).toBe(503); // recovering the fault does not cure a leak
    const gauges = await poolGauges(victim.port!);
    expect(gauges['db_pool_active']).toBe(3);
  });
});
