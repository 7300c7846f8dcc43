import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { SystemClock } from '../../harness/core/clock.js';
import { createLoadDriver } from '../../harness/load/index.js';
import type { LoadPlan } from '../../harness/load/types.js';
import { workloadRequests } from '../../harness/scenario/request-names.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';
import { ORDERS_WORKLOAD, PLAIN_WORKLOAD, SEEDED_IDS, bareOrderRequest } from './orders.js';

export { ORDERS_WORKLOAD, PLAIN_WORKLOAD, SEEDED_IDS, bareOrderRequest };

/** Closed loop, in this process: bare autocannon's responses per second on the three routes. */
export async function bareOrdersClosed(url: string, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections, duration: seconds, requests: [{ setupRequest: (req) => ({ ...req, ...bareOrderRequest() }) }] });
  return result.requests.total / seconds;
}

export interface HarnessRun {
  /** Outcomes recorded (responses and transport errors). */
  completed: number;
  /** Responses with a status the request does not expect, plus transport errors and dropped arrivals: 0 when the workload works. */
  failed: number;
  /** process.cpuUsage() user + system over the run, µs, of this whole process. */
  cpuUs: number;
}

/**
 * gameday's driver into a TimelineRecorder that knows the workload's requests, in this process:
 * closed (`ratePerSec` absent) or open at `ratePerSec`; `plain` runs the Task API preset's reads.
 */
export async function harnessRun(url: string, connections: number, seconds: number, opts: { ratePerSec?: number; plain?: boolean } = {}): Promise<HarnessRun> {
  const clock = new SystemClock();
  const durationMs = seconds * 1000;
  const workload = opts.plain ? PLAIN_WORKLOAD : ORDERS_WORKLOAD;
  const timeoutMs = 10_000;
  const plan: LoadPlan = opts.ratePerSec
    ? { model: 'open', ratePerSec: opts.ratePerSec, connections, maxInFlight: Math.max(connections * 4, Math.ceil((opts.ratePerSec * timeoutMs) / 1000)), timeoutMs, workload, seed: 1 }
    : { model: 'closed', connections, timeoutMs, workload, seed: 1 };
  const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: durationMs + timeoutMs }], sloLatencyMs: 500, maxLatencyMs: 20_000, requests: workloadRequests(plan) });
  const pools = new Map(opts.plain ? [['taskIds', SEEDED_IDS]] : []);
  const before = process.cpuUsage();
  const run = createLoadDriver(plan, clock).start({ url, pools }, recorder, new AbortController().signal);
  await clock.sleep(durationMs);
  run.stop();
  await run.done;
  const cpu = process.cpuUsage(before);
  const data = recorder.snapshot();
  const completed = data.phases.reduce((n, p) => n + p.count, 0);
  const failed = data.requests.reduce((n, r) => n + r.phases.reduce((m, p) => m + p.unexpected, 0), 0) + data.phases.reduce((n, p) => n + p.failures, 0);
  return { completed, failed, cpuUs: cpu.user + cpu.system };
}

/** The orders target (workload-target.ts) in its own process. */
export function startOrdersTarget(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./workload-target.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      const m = /"port":(\d+)/.exec(c.toString());
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`orders target exited ${code}`)));
  });
}

/** Median and range of a sample. */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}
