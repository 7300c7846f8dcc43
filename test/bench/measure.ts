import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { SystemClock } from '../../harness/core/clock.js';
import { createLoadDriver } from '../../harness/load/index.js';
import type { LoadPlan } from '../../harness/load/types.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';

/** Requests per second of bare autocannon (closed loop) against `url` + random `/tasks/:id`. */
export async function bareAutocannon(url: string, connections: number, seconds: number, maxId: number): Promise<number> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/tasks/${1 + Math.floor(Math.random() * maxId)}` }) }],
  });
  return result.requests.total / seconds;
}

/** Requests per second of gameday's closed-model driver recording into HDR windows. */
export async function harnessLoad(url: string, connections: number, seconds: number, maxId: number): Promise<number> {
  const clock = new SystemClock();
  const durationMs = seconds * 1000;
  const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: durationMs }], sloLatencyMs: 500, maxLatencyMs: 20_000 });
  const plan: LoadPlan = { model: 'closed', connections, timeoutMs: 10_000, workload: taskApiWorkload([{ op: 'get', weight: 1 }]), seed: 1 };
  const ids = Array.from({ length: maxId }, (_, i) => String(i + 1));
  const run = createLoadDriver(plan, clock).start({ url, pools: new Map([['taskIds', ids]]) }, recorder, new AbortController().signal);
  await clock.sleep(durationMs);
  run.stop();
  await run.done;
  const data = recorder.snapshot();
  const responses = data.phases.reduce((n, p) => n + p.responses, 0);
  return responses / seconds;
}

/** A target server in its own process; resolves with its URL and a stop function. */
export function startTargetServer(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./target-server.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      const m = /"port":(\d+)/.exec(c.toString());
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`target server exited ${code}`)));
  });
}

const run = promisify(execFile);

/** pgbench -S (select-only) transactions per second at `clients`, excluding connection time. */
export async function pgbenchSelect(url: string, clients: number, seconds: number): Promise<number> {
  await run('pgbench', ['-i', '-s', '1', '-q', url], { timeout: 120_000 });
  const { stdout } = await run('pgbench', ['-S', '-n', '-c', String(clients), '-j', '2', '-T', String(seconds), url], { timeout: (seconds + 60) * 1000 });
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`unexpected pgbench output:\n${stdout}`);
  return Number(m[1]);
}

export async function hasPgbench(): Promise<boolean> {
  try {
    await run('pgbench', ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
