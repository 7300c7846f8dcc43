// One open-model measurement in a process of its own, so its CPU time and RSS are the whole
// process's, start-up included: bundled to plain JavaScript by open-bench.ts (no TypeScript
// compiled at start, as the shipped CLI) and run as `node open-client.mjs '<json Ask>'`.
// Prints one JSON line (Answer) and exits. Sides:
//   gameday     gameday's open driver into a TimelineRecorder that knows the workload's requests
//   autocannon  bare autocannon at the same rate (overallRate), same routes, nothing templated
//   raw         a minimal raw-socket open-model client (reference-client.ts), latency from intended send time
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { SystemClock } from '../../harness/core/clock.js';
import { createLoadDriver } from '../../harness/load/index.js';
import type { LoadPlan } from '../../harness/load/types.js';
import { openConnections } from '../../harness/load/warm.js';
import { LagMonitor } from '../../harness/run/lag-monitor.js';
import { workloadRequests } from '../../harness/scenario/request-names.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';
import { ORDERS_WORKLOAD, PLAIN_WORKLOAD, SEEDED_IDS, bareOrderRequest } from './orders.js';

export interface Ask {
  side: 'gameday' | 'autocannon' | 'raw';
  url: string;
  connections: number;
  seconds: number;
  ratePerSec: number;
  /** gameday: the Task API preset's reads instead of the templated workload; raw: GET /tasks/:id. */
  plain?: boolean;
  /** Keep RSS samples, one a second (the memory-flatness part). */
  rssEverySecond?: boolean;
}

export interface Answer {
  /** Outcomes: responses of any status and transport errors. */
  completed: number;
  /** Unexpected statuses, transport errors and drops: 0 when the workload works. */
  failed: number;
  /** process.cpuUsage() since the process started (user + system), µs. */
  cpuUs: number;
  /** process.resourceUsage().maxRSS, bytes. */
  maxRss: number;
  /** RSS at the end of each second, bytes (rssEverySecond only). */
  rss: number[];
  /** Overall p50/p99 of latency from the intended send time, ms (gameday and raw). */
  p50Ms?: number;
  p99Ms?: number;
  /** gameday: per second, p99 (ms, null without outcomes) and the lag monitor's verdict. */
  seconds?: Array<{ p99Ms: number | null; loopDelayMaxMs: number; sendLagMaxMs: number | null; stalled: boolean }>;
}

/** Per thread of this process: name and CPU ticks (user + system), from /proc (diagnostics only). */
function threadTimes(): string {
  return readdirSync('/proc/self/task').map((t) => {
    const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()}=${Number(f[11]) + Number(f[12])}`;
  }).join(' ');
}

/** Diagnostics (OPEN_CLIENT_MEMORY): RSS and max RSS at a stage of the run. */
function stage(name: string): void {
  if (!process.env['OPEN_CLIENT_MEMORY']) return;
  const m = process.memoryUsage();
  // RSS split as the kernel counts it: anonymous (heap, malloc, stacks) and file-backed (node's binary, its ICU data).
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): string => ((Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)) / 1024).toFixed(1);
  process.stderr.write(`${name}: rss ${(m.rss / 1e6).toFixed(1)} MB, max ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB (anon ${kb('RssAnon')}, file ${kb('RssFile')} MiB), heapTotal ${(m.heapTotal / 1e6).toFixed(1)} heapUsed ${(m.heapUsed / 1e6).toFixed(1)} external ${(m.external / 1e6).toFixed(1)} MB\n`);
}

const ask = JSON.parse(process.argv[2] ?? '{}') as Ask;
const rss: number[] = [];
const rssTimer = ask.rssEverySecond
  ? setInterval(() => {
      rss.push(process.memoryUsage.rss());
      if (process.env['OPEN_CLIENT_MEMORY']) {
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        // V8's spaces: the young generation (new_space) grows with the allocation rate, apart from what is live.
        const spaces = getHeapSpaceStatistics().map((s) => `${s.space_name.replace('_space', '')} ${(s.space_size / 1e6).toFixed(1)}/${(s.space_used_size / 1e6).toFixed(1)}`).join(' ');
        process.stderr.write(`rss ${(m.rss / 1e6).toFixed(1)} heapTotal ${(m.heapTotal / 1e6).toFixed(1)} heapUsed ${(m.heapUsed / 1e6).toFixed(1)} external ${(m.external / 1e6).toFixed(1)} arrayBuffers ${(m.arrayBuffers / 1e6).toFixed(1)} spaces(size/used) ${spaces}\n`);
      }
    }, 1000)
  : undefined;

async function gameday(): Promise<Omit<Answer, 'cpuUs' | 'maxRss' | 'rss'>> {
  // As a run does: the connections open before the clock's zero.
  const warm = process.env['OPEN_CLIENT_COLD'] ? undefined : await openConnections(ask.url, {}, ask.connections, 10_000);
  stage('warm');
  const clock = new SystemClock();
  const durationMs = ask.seconds * 1000;
  const timeoutMs = 10_000;
  const workload = ask.plain ? PLAIN_WORKLOAD : ORDERS_WORKLOAD;
  const plan: LoadPlan = { model: 'open', ratePerSec: ask.ratePerSec, connections: ask.connections, maxInFlight: Math.max(ask.connections * 4, Math.ceil((ask.ratePerSec * timeoutMs) / 1000)), timeoutMs, workload, seed: 1 };
  const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: durationMs + timeoutMs }], sloLatencyMs: 500, maxLatencyMs: 20_000, requests: workloadRequests(plan) });
  const lag = new LagMonitor(clock);
  lag.start();
  const pools = new Map(ask.plain ? [['taskIds', SEEDED_IDS]] : []);
  const run = createLoadDriver(plan, clock, { sendLag: (intended, now) => lag.sendLag(intended, now) }).start({ url: ask.url, pools, ...(warm ? { warm } : {}) }, recorder, new AbortController().signal);
  stage('started');
  if (process.env['OPEN_CLIENT_MEMORY']) for (let i = 0; i < 10; i++) (await clock.sleep(50), stage(`+${(i + 1) * 50} ms`));
  await clock.sleep(durationMs);
  stage('ran');
  // Diagnostics: the heap as the load leaves it (a .heapsnapshot for Chrome's DevTools), before the recorder's snapshot.
  if (process.env['OPEN_CLIENT_HEAPSNAPSHOT']) writeHeapSnapshot(process.env['OPEN_CLIENT_HEAPSNAPSHOT']);
  run.stop();
  await run.done;
  lag.stop();
  stage('done');
  const data = recorder.snapshot();
  stage('snapshot');
  const completed = data.phases.reduce((n, p) => n + p.count, 0);
  const failed = data.requests.reduce((n, r) => n + r.phases.reduce((m, p) => m + p.unexpected, 0), 0) + data.phases.reduce((n, p) => n + p.failures, 0);
  const lagSeconds = lag.seconds();
  const threshold = lag.stallThresholdMs;
  const seconds = data.seconds.slice(0, ask.seconds).map((w, i) => {
    const l = lagSeconds.find((s) => s.second === i);
    const loopDelayMaxMs = l?.loopDelayMaxMs ?? 0;
    const sendLagMaxMs = l?.sendLagMaxMs ?? null;
    return { p99Ms: w.p99Ms, loopDelayMaxMs, sendLagMaxMs, stalled: loopDelayMaxMs > threshold || (sendLagMaxMs ?? 0) > threshold };
  });
  const phase = data.phases[0];
  if (process.env['OPEN_CLIENT_MEMORY'] && phase) process.stderr.write(`outcomes: ${JSON.stringify({ status: phase.status, transportErrors: phase.transportErrors, dropped: phase.dropped, unexpected: data.requests.map((r) => r.phases[0]?.unexpected) })}\n`);
  return { completed, failed, p50Ms: phase?.p50Ms ?? undefined, p99Ms: phase?.p99Ms ?? undefined, seconds };
}

async function bare(): Promise<Omit<Answer, 'cpuUs' | 'maxRss' | 'rss'>> {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url: ask.url,
    connections: ask.connections,
    duration: ask.seconds,
    overallRate: ask.ratePerSec,
    requests: [{ setupRequest: (req) => ({ ...req, ...bareOrderRequest() }) }],
  });
  return { completed: result.requests.total, failed: result.non2xx + result.errors + result.timeouts };
}

const result = ask.side === 'gameday' ? await gameday() : ask.side === 'autocannon' ? await bare() : await (await import('./reference-client.js')).runReference(ask);
if (rssTimer) clearInterval(rssTimer);
const cpu = process.cpuUsage();
const answer: Answer = { ...result, cpuUs: cpu.user + cpu.system, maxRss: process.resourceUsage().maxRSS * 1024, rss };
if (process.env['OPEN_CLIENT_THREADS']) process.stderr.write(`${ask.side} user ${cpu.user} system ${cpu.system} elu ${performance.eventLoopUtilization().utilization.toFixed(3)} threads ${threadTimes()}\n`);
process.stdout.write(`${JSON.stringify(answer)}\n`);
process.exit(0);
