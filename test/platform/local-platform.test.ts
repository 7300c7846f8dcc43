import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import type { LocalDeployment } from '../../harness/platform/local/index.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { rmSync } from 'node:fs';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

const plan = localPlatformPlan({ readinessProbe: { initialDelayMs: 0, periodMs: 200, timeoutMs: 1000, failureThreshold: 1, successThreshold: 1 }, pool: { size: 4, acquireTimeoutMs: 1000, statementTimeoutMs: 5000 }, seedRows: 500 });

/** One request on a fresh connection (so the Service picks an endpoint for it). */
function getOnce(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local platform', () => {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  // Everything the platform puts in the temp directory goes to one of this test's own.
  const tmp = privateTmp();
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = tmp.dir;
  const platform = new LocalPlatform(plan, { journal }, clock);
  let deployment: LocalDeployment;

  beforeAll(async () => {
    deployment = await platform.deploy(new AbortController().signal);
  });
  afterAll(async () => {
    await platform.teardown();
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    rmSync(tmp.dir, { recursive: true, force: true });
  });

  it('brings up every replica behind the Service, each only after its readiness probe passed', () => {
    const replicas = deployment.replicas();
    expect(replicas).toHaveLength(3);
    expect(replicas.every((r) => r.ready)).toBe(true);
    const events = journal.events();
    for (const r of replicas) {
      const ready = events.find((e) => e.type === 'replica.ready' && e.target === r.name);
      const joined = events.find((e) => e.type === 'replica.joined-service' && e.target === r.name);
      expect(ready).toBeDefined();
      expect(joined).toBeDefined();
      expect(joined!.atMs).toBeGreaterThanOrEqual(ready!.atMs);
    }
  });

  it('serves seeded rows through the Service and spreads connections over the replicas', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const res = await getOnce(deployment.serviceUrl, '/tasks/1');
      expect(res.status).toBe(200);
      const metrics = await getOnce(deployment.serviceUrl, '/metrics');
      const replica = /task_api_info\{replica="([^"]+)"\} 1/.exec(metrics.body)?.[1];
      if (replica) seen.add(replica);
    }
    expect([...seen].sort()).toEqual(deployment.replicas().map((r) => r.name).sort());
    expect(deployment.seededIds).toEqual({ min: 1, max: 500 });
  });

  it('replaces a killed replica and journals kill → left Service → replacement started → ready', async () => {
    const victim = deployment.replicas()[0]!;
    expect((await platform.replicaControl.kill(victim.name, { how: 'kill' })).killed).toBe(true);
    const replaced = await waitFor(
      () => journal.events().some((e) => e.type === 'replica.ready' && e.detail?.['replaces'] === victim.name),
      15_000,
    );
    expect(replaced).toBe(true);
    const events = journal.events();
    const left = events.find((e) => e.type === 'replica.left-service' && e.target === victim.name);
    const started = events.find((e) => e.type === 'replica.started' && e.detail?.['replaces'] === victim.name);
    const ready = events.find((e) => e.type === 'replica.ready' && e.detail?.['replaces'] === victim.name);
    expect(left && started && ready).toBeTruthy();
    expect(started!.atMs).toBeGreaterThanOrEqual(left!.atMs);
    expect(ready!.atMs).toBeGreaterThan(started!.atMs);
    expect(isAlive(victim.pid!)).toBe(false);
    const now = deployment.replicas();
    expect(now.filter((r) => r.ready)).toHaveLength(3);
    expect(now.map((r) => r.name)).not.toContain(victim.name);
  });

  it('acts through its neutral capabilities: a resource probe, a request to one replica, terminate with grace, a kill that misses', async () => {
    const victim = deployment.replicas().find((r) => r.ready)!;
    const probed = await deployment.resources.probe(victim.name, 2000);
    expect(probed.rssBytes).toBeGreaterThan(1_000_000);
    expect(probed.openFds).toBeGreaterThan(0);
    expect(probed.pool?.db_pool_total).toBeGreaterThan(0);
    expect(probed.errors).toEqual({});
    const health = await deployment.replicaHttp.request(victim.name, { method: 'GET', path: '/health', timeoutMs: 2000 });
    expect(health.status).toBe(200);
    expect(await platform.replicaControl.kill(victim.name, { how: 'terminate', graceMs: 5000 })).toEqual({ killed: true, detail: { signal: 'SIGTERM', pid: victim.pid } });
    // Gone once the platform has seen it exit: a kill then misses.
    expect(await waitFor(() => !isAlive(victim.pid!) && !deployment.replicas().some((r) => r.name === victim.name), 5000)).toBe(true);
    expect(await platform.replicaControl.kill(victim.name, { how: 'kill' })).toEqual({ killed: false, detail: { signal: 'SIGKILL', pid: null } });
    await expect(deployment.replicaHttp.request(victim.name, { method: 'GET', path: '/health', timeoutMs: 500 })).rejects.toThrow(/not listening/);
    const replaced = await waitFor(() => deployment.replicas().some((r) => r.replaces === victim.name && r.ready && r.phase === 'Ready'), 15_000);
    expect(replaced).toBe(true);
  });

  it('tears down without leaving processes, ports or temp directories', async () => {
    const port = Number(new URL(deployment.serviceUrl).port);
    const pids = deployment.replicas().map((r) => r.pid!);
    expect(descendants().length).toBeGreaterThanOrEqual(4);
    await platform.teardown();
    await platform.teardown(); // idempotent
    expect(pids.filter(isAlive)).toEqual([]);
    await waitFor(() => descendants().length === 0, 5000);
    expect(descendants().map(describeProcess)).toEqual([]);
    expect(tmp.entries()).toEqual([]);
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
