import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { request } from 'undici';
import { HarnessError } from '../../core/errors.js';
import type { LocalReplicaStatus } from './supervisor.js';
import { freePort } from './free-port.js';
import type { Reaping } from './reaper.js';

/** Scrape every replica this often: the server side's time resolution. */
export const SCRAPE_INTERVAL_S = 1;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/** How often the replica set is read to rewrite the file_sd targets. */
const FOLLOW_EVERY_MS = 200;

/** A Prometheus binary to run, or why there is none. */
export type PrometheusBinary = { path: string } | { skipped: string };

/** PROMETHEUS_BIN if set (it must be executable), else `prometheus` on PATH. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): PrometheusBinary {
  const explicit = env.PROMETHEUS_BIN;
  if (explicit) return executable(explicit) ? { path: explicit } : { skipped: `PROMETHEUS_BIN=${explicit} is not an executable file` };
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'prometheus');
    if (executable(candidate)) return { path: candidate };
  }
  return { skipped: 'no prometheus binary on PATH (install the Debian package prometheus, or set PROMETHEUS_BIN)' };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ScrapeTarget {
  replica: string;
  port: number;
}

/** A Prometheus gameday started: loopback only, its own storage, stopped and removed by `stop()`. */
export interface PrometheusServer {
  url: string;
  pid: number;
  dir: string;
  /** Rewrites the file_sd targets (atomically) when they changed. */
  setTargets(targets: ScrapeTarget[]): Promise<void>;
  /** Keeps the targets equal to the replicas that listen, until `stop()`. */
  follow(replicas: () => LocalReplicaStatus[]): void;
  /** Resolves once each named replica has been scraped successfully (its counters have a first sample). */
  waitScraped(replicas: string[], timeoutMs: number, signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** The generated configuration: one job, file-based service discovery, 1 s scrapes. */
export function prometheusConfig(targetsFile: string): string {
  return [
    'global:',
    `  scrape_interval: ${SCRAPE_INTERVAL_S}s`,
    `  scrape_timeout: ${Math.round(SCRAPE_INTERVAL_S * 900)}ms`,
    `  evaluation_interval: ${SCRAPE_INTERVAL_S}s`,
    'scrape_configs:',
    '  - job_name: replicas',
    '    metrics_path: /metrics',
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(targetsFile)}]`,
    '        refresh_interval: 1s',
    '',
  ].join('\n');
}

/** The file_sd document: one group per replica, labelled with its name. */
export function fileSdTargets(targets: ScrapeTarget[]): string {
  return JSON.stringify(targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { replica: t.replica } })));
}

/**
 * Starts Prometheus in a new temp directory (registered with the reaper before it exists), in its
 * own process group (registered the instant it is spawned), listening on a free loopback port.
 * Resolves once /-/ready answers 200; on any failure everything is stopped and removed.
 */
export async function startPrometheus(
  binary: string,
  opts: {
    reaping?: Reaping;
    signal?: AbortSignal;
    targets?: ScrapeTarget[];
    /** Added to the command line, e.g. `--web.enable-remote-write-receiver`, `--enable-feature=native-histograms`. */
    flags?: readonly string[];
  } = {},
): Promise<PrometheusServer> {
  const { reaping, signal } = opts;
  const dir = join(tmpdir(), `gameday-prom-${randomBytes(6).toString('hex')}`);
  reaping?.watchPath(dir);
  let child: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current = '';
  const targetsFile = join(dir, 'targets.json');
  const log: string[] = [];
  const stop = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await stopGroup(child);
    if (child?.pid) reaping?.forget({ pid: child.pid });
    child = undefined;
    await rm(dir, { recursive: true, force: true });
    reaping?.forget({ path: dir });
  };
  const setTargets = async (targets: ScrapeTarget[]): Promise<void> => {
    const text = fileSdTargets([...targets].sort((a, b) => a.replica.localeCompare(b.replica)));
    if (text === current) return;
    current = text;
    // Written beside and renamed over: Prometheus never reads half a file.
    const tmp = `${targetsFile}.${randomBytes(3).toString('hex')}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, targetsFile);
  };
  try {
    await mkdir(dir, { mode: 0o700 });
    // Targets known at start-up are in the first discovery; later changes wait for Prometheus's
    // discovery tick (5 s), so the platform starts it once the replicas listen.
    await setTargets(opts.targets ?? []);
    await writeFile(join(dir, 'prometheus.yml'), prometheusConfig(targetsFile));
    const port = await freePort();
    signal?.throwIfAborted();
    child = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1d',
        '--log.level=warn',
        ...(opts.flags ?? []),
      ],
      { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (child.pid) reaping?.watchGroup(child.pid, 'SIGTERM');
    child.stderr?.on('data', (c: Buffer) => void (log.length < 100 && log.push(c.toString('utf8'))));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(child, url, signal);
    const pid = child.pid as number;
    const server: PrometheusServer = {
      url,
      pid,
      dir,
      setTargets,
      follow(replicas) {
        const sync = (): void => {
          const targets = replicas().flatMap((r) => (r.port !== undefined ? [{ replica: r.name, port: r.port }] : []));
          setTargets(targets).catch(() => undefined);
        };
        sync();
        if (timer) clearInterval(timer);
        timer = setInterval(sync, FOLLOW_EVERY_MS);
        timer.unref();
      },
      waitScraped: (replicas, timeoutMs, sig) => waitScraped(url, replicas, timeoutMs, sig),
      stop,
    };
    return server;
  } catch (err) {
    await stop();
    if (signal?.aborted) throw err;
    throw new HarnessError(`Prometheus failed to start: ${(err as Error).message}\n${log.join('').slice(-2000)}`, { cause: err });
  }
}

/** Polls /-/ready (each poll bounded) until 200; rejects if the process exits, at the timeout, or on abort. */
async function waitReady(child: ChildProcess, url: string, signal?: AbortSignal): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, sig) => (exited = `prometheus exited (code ${code}, signal ${sig})`));
  child.once('error', (err) => (exited = err.message));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (exited) throw new Error(exited);
    try {
      const res = await request(`${url}/-/ready`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${START_TIMEOUT_MS}ms`);
}

/** Polls `up` until every named replica reports 1; rejects at the timeout. */
async function waitScraped(url: string, replicas: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = new Set<string>();
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const res = await request(`${url}/api/v1/query?query=${encodeURIComponent('up == 1')}`, { headersTimeout: 2000, bodyTimeout: 2000 });
      const body = (await res.body.json()) as { data?: { result?: Array<{ metric: Record<string, string> }> } };
      seen = new Set((body.data?.result ?? []).map((r) => r.metric.replica ?? ''));
      if (replicas.every((r) => seen.has(r))) return;
    } catch {
      // retried until the deadline
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new HarnessError(`Prometheus did not scrape every replica within ${timeoutMs}ms (scraped: ${[...seen].join(', ') || 'none'}; expected: ${replicas.join(', ')})`);
}

/** SIGTERM (Prometheus closes its TSDB), then SIGKILL of the whole group after a grace period. */
async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const kill = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(kill);
}
