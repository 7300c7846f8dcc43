import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusQuery, bucketBounds, readServerView, valueAt } from '../../harness/observe/prometheus-query.js';
import { findPrometheus, startPrometheus, type PrometheusServer } from '../../harness/platform/local/prometheus.js';
import type { Reaping } from '../../harness/platform/local/reaper.js';
import { isAlive, waitFor } from '../helpers/leftovers.js';

const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';

/** A replica's /metrics: the Task API's two metric families, driven by the test. */
async function fakeReplica(): Promise<{ port: number; requests: Counter<'route' | 'status'>; durations: Histogram<'route'>; server: Server }> {
  const registry = new Registry();
  const requests = new Counter({ name: 'task_api_requests_total', help: 'h', labelNames: ['route', 'status'], registers: [registry] });
  const durations = new Histogram({ name: 'task_api_request_duration_seconds', help: 'h', labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry] });
  const server = createServer((_req, res) => void registry.metrics().then((text) => res.end(text)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, requests, durations, server };
}

/** What the reaper was told, in order. */
function recordingReaper(): Reaping & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    watchGroup: (pid) => void log.push(`group ${pid}`),
    watchPath: (path) => void log.push(`path ${path}`),
    forget: (r) => void log.push(`forget ${r.pid ?? r.path}`),
  };
}

describe('finding the binary', () => {
  it('says why there is none: PROMETHEUS_BIN not executable, or nothing on PATH', () => {
    expect(findPrometheus({ PROMETHEUS_BIN: '/nonexistent/prometheus', PATH: process.env.PATH ?? '' })).toEqual({ skipped: 'PROMETHEUS_BIN=/nonexistent/prometheus is not an executable file' });
    expect(findPrometheus({ PATH: '/nonexistent' })).toEqual({ skipped: expect.stringContaining('no prometheus binary on PATH') });
  });
});

describe('bucket bounds and counter values (pure)', () => {
  it('finds the bucket holding a quantile from cumulative bucket increases', () => {
    const b = new Map([[0.25, 10], [0.5, 90], [1, 100], [Infinity, 100]]);
    expect(bucketBounds(b, 0.95)).toEqual({ lowerMs: 500, upperMs: 1000 });
    expect(bucketBounds(b, 0.5)).toEqual({ lowerMs: 250, upperMs: 500 });
    expect(bucketBounds(new Map([[Infinity, 0]]), 0.95)).toBeNull();
  });
  it('interpolates a counter between the scrapes around an instant; 0 before its first sample', () => {
    const s: Array<[number, number]> = [[1000, 10], [2000, 20], [3000, 20]];
    expect(valueAt(s, 500)).toBe(0);
    expect(valueAt(s, 1500)).toBe(15);
    expect(valueAt(s, 5000)).toBe(20);
  });
});

describe.skipIf(!!why)(`a real Prometheus scraping replicas${why ? ` (skipped: ${why})` : ''}`, () => {
  let prom: PrometheusServer | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await prom?.stop();
    for (const s of servers) s.close();
  });

  it('follows replicas by file_sd, counts their requests exactly, sees a replaced replica\'s scrape gap, and leaves nothing', { timeout: 30_000 }, async () => {
    const reaper = recordingReaper();
    prom = await startPrometheus((binary as { path: string }).path, { reaping: reaper });
    const { pid, dir, url } = prom;
    // The directory was known to the reaper before it existed, the process group the moment it was spawned.
    expect(reaper.log[0]).toBe(`path ${dir}`);
    expect(reaper.log).toContain(`group ${pid}`);
    expect(readFileSync(`${dir}/prometheus.yml`, 'utf8')).toContain('scrape_interval: 1s');
    expect(new URL(url).hostname).toBe('127.0.0.1');

    const a = await fakeReplica();
    const b = await fakeReplica();
    servers.push(a.server, b.server);
    let replicas = [{ name: 'r-a', port: a.port, ready: true, startedAtMs: 0 }];
    prom.follow(() => replicas);
    await prom.waitScraped(['r-a'], 10_000);
    const t0 = Date.now();
    a.requests.inc({ route: '/tasks/:id', status: '200' }, 40);
    a.requests.inc({ route: '/tasks/:id', status: '503' }, 7);
    a.requests.inc({ route: '/health', status: '200' }, 100); // probes are not the load's
    for (let i = 0; i < 40; i++) a.durations.observe({ route: '/tasks/:id' }, 0.3);
    for (let i = 0; i < 7; i++) a.durations.observe({ route: '/tasks/:id' }, 0.002);
    await new Promise((r) => setTimeout(r, 1500));
    // Replaced: a new replica joins, the old one dies before answering more (its last counts were scraped).
    replicas = [{ name: 'r-b', port: b.port, ready: true, startedAtMs: 0 }];
    await prom.waitScraped(['r-b'], 10_000);
    a.server.close();
    b.requests.inc({ route: '/tasks/:id', status: '503' }, 5);
    await new Promise((r) => setTimeout(r, 2500));
    const t1 = Date.now();

    const view = await readServerView(new PrometheusQuery(url), [{ phase: 'run', startMs: 0, endMs: t1 - t0, startWallMs: t0 - 100, endWallMs: t1 }], t0, 1);
    if ('skipped' in view) throw new Error(view.skipped);
    const run = view.phases[0]!;
    expect(run.requests).toBe(52);
    expect(run.status5xx).toBe(12);
    expect(run.p95).toMatchObject({ lowerMs: 250, upperMs: 500 });
    expect(run.seed5xx.query).toBe(`sum(increase(task_api_requests_total{status=~"5.."}[${run.windowS}s]))`);
    expect(run.arithmetic).toContain(`→ [${run.windowS}s]`);
    expect(view.scrapeGaps.map((g) => g.replica)).toEqual(['r-a']);

    await prom.stop();
    prom = undefined;
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(reaper.log).toEqual(expect.arrayContaining([`forget ${pid}`, `forget ${dir}`]));
  });
});
