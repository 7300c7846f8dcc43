import { connect, createServer, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { seededRandom } from '../../harness/core/random.js';
import { createInjector, type FaultContext } from '../../harness/faults/index.js';
import { FaultSchedule } from '../../harness/run/fault-schedule.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import type { LocalDeployment } from '../../harness/platform/local/index.js';
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

/** A loopback TCP relay to 127.0.0.1:`port` that holds every chunk `delayMs`, in order; counts connections. */
class SlowRelay {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
  ) {}

  static async start(upstreamPort: number, delayMs: number): Promise<SlowRelay> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relay = new SlowRelay(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => {
      relay.connections++;
      const upstream = connect(upstreamPort, '127.0.0.1');
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        relay.sockets.add(from);
        from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
        from.on('end', () => setTimeout(() => to.end(), delayMs));
        from.on('error', () => undefined);
        from.on('close', () => (relay.sockets.delete(from), to.destroy()));
      }
    });
    return relay;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('faults on the local platform (real PostgreSQL, real replicas)', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  const clock = new SystemClock();
  const journal = new Journal(clock);
  let platform: LocalPlatform;
  let deployment: LocalDeployment;
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

  /**
   * The hold fault reaches PostgreSQL through a relay that delays every chunk 40 ms, so every
   * session takes a few round trips to open: a fill lasts seconds and recovery lands in the middle of it.
   */
  const throughSlowProxy = async (): Promise<{ ctx: FaultContext; proxy: SlowRelay }> => {
    const direct = new URL(deployment.databaseUrl!);
    const proxy = await SlowRelay.start(Number(direct.port), 40);
    const slow = new URL(direct);
    slow.port = String(proxy.port);
    const slowDeployment: LocalDeployment = { ...deployment, databaseUrl: slow.toString() };
    return { ctx: { ...ctx, deployment: slowDeployment }, proxy };
  };
  const tracked = <T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } => {
    let done = false;
    const promise = p.finally(() => (done = true));
    return { promise, settled: () => done };
  };

  it('hold: recover during an ongoing fill stops it: nothing stays held and no new session is opened', async () => {
    const { ctx: slowCtx, proxy } = await throughSlowProxy();
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'hold-recovered-mid-fill', atMs: 0, durationMs: 1, mode: 'hold', replicas: { mode: 'one' } });
    try {
      const apply = tracked(fault.apply(slowCtx));
      expect(await waitFor(async () => (await faultSessions()) >= 2, 15_000, 10)).toBe(true);
      expect(apply.settled()).toBe(false); // the fill is under way
      await fault.recover([], slowCtx);
      const opened = proxy.connections;
      expect(await waitFor(async () => (await faultSessions()) === 0, 3000)).toBe(true);
      await new Promise((r) => setTimeout(r, 600)); // several connect times: an unstopped fill would have opened more
      expect(proxy.connections).toBe(opened);
      expect(await faultSessions()).toBe(0);
      await apply.promise; // resolves (with what it held then), never throws
    } finally {
      await fault.recover([], slowCtx); // whatever an assertion did, the next test gets its slots back
      await proxy.close();
    }
  });

  it('hold: recovery starting (the abort signal) ends the fill with what it holds, then recover releases it', async () => {
    const { ctx: slowCtx, proxy } = await throughSlowProxy();
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'hold-aborted', atMs: 0, durationMs: 1, mode: 'hold', replicas: { mode: 'one' } });
    try {
      const stop = new AbortController();
      const apply = tracked(fault.apply(slowCtx, stop.signal));
      expect(await waitFor(async () => (await faultSessions()) >= 2, 15_000, 10)).toBe(true);
      expect(apply.settled()).toBe(false);
      stop.abort();
      const records = await apply.promise;
      const held = Number(records[0]!.detail!['held']);
      expect(held).toBeGreaterThanOrEqual(1);
      expect(held).toBeLessThan(20); // far from the ~50 free slots: the fill was cut short
      const opened = proxy.connections;
      expect(await waitFor(async () => (await faultSessions()) === held, 3000)).toBe(true);
      await new Promise((r) => setTimeout(r, 600)); // several connect times: an unstopped fill would have opened more
      expect(proxy.connections).toBe(opened);
      expect(await faultSessions()).toBe(held);
      expect(journal.events().find((e) => e.fault === 'hold-aborted' && e.type === 'pool.connections-held')?.detail).toEqual({ held, interrupted: true });
      await fault.recover(records, slowCtx);
      expect(await waitFor(async () => (await faultSessions()) === 0, 3000)).toBe(true);
    } finally {
      await fault.recover([], slowCtx); // whatever an assertion did, the next test gets its slots back
      await proxy.close();
    }
  });

  it('hold on the schedule: a fault whose end comes mid-fill stops filling, is released, and nothing opens afterwards', async () => {
    const { ctx: slowCtx, proxy } = await throughSlowProxy();
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'hold-short', atMs: 0, durationMs: 700, mode: 'hold', replicas: { mode: 'one' } });
    const runClock = new SystemClock();
    const schedule = new FaultSchedule([fault], { ...slowCtx, clock: runClock }, runClock, journal);
    try {
      schedule.start();
      const ended = await waitFor(() => journal.events().some((e) => e.fault === 'hold-short' && e.type === 'fault.recovered'), 10_000, 20);
      expect(ended).toBe(true);
      const held = journal.events().find((e) => e.fault === 'hold-short' && e.type === 'pool.connections-held');
      expect(held?.detail).toMatchObject({ interrupted: true });
      expect(Number(held!.detail!['held'])).toBeLessThan(20); // the fill was cut short at the fault's end
      const types = journal.events().filter((e) => e.fault === 'hold-short').map((e) => e.type);
      expect(types).toEqual(['fault.started', 'pool.connections-held', 'fault.applied', 'pool.released', 'fault.recovered']);
      expect(await waitFor(async () => (await faultSessions()) === 0, 3000)).toBe(true);
      const opened = proxy.connections;
      await new Promise((r) => setTimeout(r, 600));
      expect(proxy.connections).toBe(opened);
      expect(await faultSessions()).toBe(0);
    } finally {
      await schedule.recoverAll();
      await proxy.close();
    }
  });

  it('lock: an apply waiting behind another transaction gives up when recovery starts; nothing stays locked or open', async () => {
    const blocker = new pg.Client({ connectionString: deployment.databaseUrl, application_name: 'test-blocker' });
    await blocker.connect();
    const fault = createInjector({ kind: 'pool-exhaustion', name: 'lock-waiting', atMs: 0, durationMs: 1, mode: 'lock', replicas: { mode: 'one' } });
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM tasks LIMIT 1'); // ACCESS SHARE until rollback: ACCESS EXCLUSIVE must wait
      const stop = new AbortController();
      const apply = tracked(fault.apply(ctx, stop.signal));
      const waiting = async (): Promise<number> =>
        Number((await admin.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gameday-fault-lock-waiting' AND wait_event_type = 'Lock'")).rows[0].count);
      expect(await waitFor(async () => (await waiting()) === 1, 5000, 10)).toBe(true);
      expect(apply.settled()).toBe(false);
      const t0 = performance.now();
      stop.abort();
      expect(await apply.promise).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(2000); // gives up within an attempt, not when the blocker ends
      expect(journal.events().some((e) => e.fault === 'lock-waiting' && e.type === 'pool.lock-abandoned')).toBe(true);
      expect(await waiting()).toBe(0);
      await blocker.query('ROLLBACK');
      await new Promise((r) => setTimeout(r, 300));
      expect(await tableLocks()).toBe(0); // the abandoned LOCK never went through
      await fault.recover([], ctx);
      expect(await waitFor(async () => (await faultSessions()) === 0, 3000)).toBe(true);
    } finally {
      await fault.recover([], ctx);
      await blocker.end();
    }
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
