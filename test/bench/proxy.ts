import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { runArrivals } from '../../harness/load/arrivals.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { InLoopLatencyProxy, LatencyProxy } from '../../harness/platform/local/latency-proxy.js';
import type { NetworkDelay } from '../../harness/platform/local/network-delay.js';
import { LagMonitor } from '../../harness/run/lag-monitor.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { bareAutocannon } from './measure.js';

const exec = promisify(execFile);

/**
 * What the latency proxy costs when no delay is set: Task API throughput (GET /tasks/:id through
 * the Service, bare autocannon) with replicas reaching PostgreSQL through the proxy vs directly.
 * Measured A B B A on two deployments of the same database size, so drift weighs on both.
 */
export async function proxyOverhead(clients: number, seconds: number): Promise<{ direct: number; proxied: number; ratio: number }> {
  const measure = async (databaseProxy: boolean): Promise<number> => {
    const clock = new SystemClock();
    const platform = new LocalPlatform(localPlatformPlan({ databaseProxy }), { journal: new Journal(clock) }, clock);
    try {
      const d = await platform.deploy(new AbortController().signal);
      await bareAutocannon(d.serviceUrl, clients, 2, 10_000); // warm JIT and pools
      return await bareAutocannon(d.serviceUrl, clients, seconds, 10_000);
    } finally {
      await platform.teardown();
    }
  };
  const direct = [await measure(false)];
  const proxied = [await measure(true), await measure(true)];
  direct.push(await measure(false));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { direct: mean(direct), proxied: mean(proxied), ratio: mean(proxied) / mean(direct) };
}

export interface LoopCostRow {
  /** Where the proxy ran: none (pgbench straight to PostgreSQL), this thread, or a worker thread. */
  mode: 'direct' | 'in-loop' | 'worker';
  delay: string;
  /** pgbench -S transactions per second through the proxy. */
  tps: number;
  /** This thread's event-loop utilisation (busy share of wall time, 0–1) over the measurement. */
  elu: number;
  /** This thread's event-loop delay: median and worst of the per-second p99, and the worst sample. */
  loopP99MedianMs: number;
  loopP99WorstMs: number;
  loopMaxMs: number;
  /** Lag of 1000 sends/s scheduled as the open model does, behind their intended times. */
  sendLagP99WorstMs: number;
  sendLagMaxMs: number;
  stalledSeconds: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const worst = (xs: Array<number | null>): number => Math.max(0, ...xs.map((x) => x ?? 0));

/**
 * What the latency proxy costs the harness's own event loop, the one that stamps latencies:
 * pgbench -S (its own processes) drives `clients` connections through the proxy for `seconds`, at
 * `ratePerSec` transactions/s (the same traffic in every mode, and room left on a small machine),
 * while this thread runs the lag monitor and an open-model-like schedule of 1000 sends/s. The
 * proxy on this thread (InLoopLatencyProxy) vs in its worker (LatencyProxy), with no delay and
 * with a small delay (a timer per held chunk); pgbench straight to PostgreSQL as the reference.
 * Measured in-loop, worker, worker, in-loop per delay, so drift weighs on both.
 */
export async function proxyLoopCost(clients: number, seconds: number, ratePerSec: number): Promise<LoopCostRow[]> {
  const postgres = await startTestPostgres(clients + 20);
  try {
    await exec('pgbench', ['-i', '-s', '1', '-q', postgres.url], { timeout: 120_000 });
    const rows: LoopCostRow[] = [await measureLoop('direct', undefined, postgres, clients, seconds, ratePerSec)];
    const delays: Array<NetworkDelay | undefined> = [undefined, { latencyMs: 2, jitterMs: 1, correlation: 0, direction: 'both' }];
    for (const delay of delays) {
      for (const mode of ['in-loop', 'worker', 'worker', 'in-loop'] as const) rows.push(await measureLoop(mode, delay, postgres, clients, seconds, ratePerSec));
    }
    return rows;
  } finally {
    await postgres.stop();
  }
}

async function measureLoop(
  mode: LoopCostRow['mode'],
  delay: NetworkDelay | undefined,
  postgres: TestPostgres,
  clients: number,
  seconds: number,
  ratePerSec: number,
): Promise<LoopCostRow> {
  const upstream = { upstreamHost: '127.0.0.1', upstreamPort: postgres.port };
  const proxy = mode === 'direct' ? undefined : mode === 'worker' ? await LatencyProxy.start(upstream) : await InLoopLatencyProxy.start(upstream);
  try {
    if (delay) proxy?.setDelay(delay);
    const url = new URL(postgres.url);
    if (proxy) url.port = String(proxy.port);
    const clock = new SystemClock();
    const monitor = new LagMonitor(clock);
    const stopSends = new AbortController();
    monitor.start();
    const elu = performance.eventLoopUtilization();
    const sends = runArrivals(clock, 1000, (_k, intendedMs) => monitor.sendLag(intendedMs, clock.now()), stopSends.signal);
    const tps = pgbenchTps(await exec('pgbench', ['-S', '-n', '-c', String(clients), '-j', '2', '-R', String(ratePerSec), '-T', String(seconds), url.toString()], { timeout: (seconds + 60) * 1000 }));
    const busy = performance.eventLoopUtilization(elu).utilization;
    stopSends.abort();
    await sends;
    // Whole seconds only: the first holds start-up, the last is partial.
    const perSecond = monitor.stop().slice(1, -1);
    return {
      mode,
      delay: delay ? `${delay.latencyMs}±${delay.jitterMs} ms ${delay.direction}` : 'none',
      tps,
      elu: busy,
      loopP99MedianMs: median(perSecond.map((s) => s.loopDelayP99Ms)),
      loopP99WorstMs: worst(perSecond.map((s) => s.loopDelayP99Ms)),
      loopMaxMs: worst(perSecond.map((s) => s.loopDelayMaxMs)),
      sendLagP99WorstMs: worst(perSecond.map((s) => s.sendLagP99Ms)),
      sendLagMaxMs: worst(perSecond.map((s) => s.sendLagMaxMs)),
      stalledSeconds: perSecond.filter((s) => monitor.isStalled(s)).length,
    };
  } finally {
    await proxy?.close();
  }
}

function pgbenchTps({ stdout }: { stdout: string }): number {
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`unexpected pgbench output:\n${stdout}`);
  return Number(m[1]);
}
