import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { HarnessError } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../core/paths.js';
import type { LocalPlatformPlan } from '../../scenario/plan.js';
import type { Reaping } from './reaper.js';
import type { ReplicaTemplate } from './replica.js';

/** The reference Task API under fixtures/, bundled from its sources whether the harness runs compiled or not. */
const ENTRY = `${PROJECT_ROOT}fixtures/task-api/main.ts`;

/** The Task API built into ES modules: what a container image is to a pod. */
export interface TaskApiImage {
  /** The entry module (`node <file> serve|seed`); the commands' own modules lie beside it. */
  file: string;
  remove(): Promise<void>;
}

/**
 * Bundles the Task API once per deployment, so a replica (and a replacement after a kill)
 * starts plain `node` on prebuilt code instead of compiling TypeScript at every start.
 * Dependencies stay external and resolve from the project's node_modules. Split by command: the
 * seed does not load the HTTP server's modules. The bundle is built in memory (so it may run while
 * the reaper starts) and written only once `reaping` is known, its directory registered before it exists.
 */
export async function buildTaskApiImage(reaping?: Promise<Reaping | undefined>): Promise<TaskApiImage> {
  const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'gameday', `task-api-${process.pid}-${Date.now()}`);
  let files: Array<{ path: string; contents: Uint8Array }>;
  try {
    const out = await build({
      entryPoints: { main: ENTRY },
      bundle: true,
      splitting: true,
      outdir: dir,
      // .mjs: no package.json above node_modules/.cache says these are ES modules.
      outExtension: { '.js': '.mjs' },
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    files = out.outputFiles;
    if (!files.some((f) => f.path === join(dir, 'main.mjs'))) throw new Error('esbuild produced no main.mjs');
  } catch (err) {
    throw new HarnessError(`building the Task API failed: ${(err as Error).message}`, { cause: err });
  } finally {
    // esbuild keeps a service process for further builds; a run builds once, so stop it.
    await stopEsbuild();
  }
  const reaper = await reaping;
  reaper?.watchPath(dir);
  const remove = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    reaper?.forget({ path: dir });
  };
  try {
    await mkdir(dir, { recursive: true });
    await Promise.all(files.map((f) => writeFile(f.path, f.contents)));
  } catch (err) {
    await remove();
    throw new HarnessError(`writing the Task API bundle to ${dir} failed: ${(err as Error).message}`, { cause: err });
  }
  return { file: join(dir, 'main.mjs'), remove };
}

function baseEnv(databaseUrl: string): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  const env: Record<string, string> = { DATABASE_URL: databaseUrl, NODE_ENV: 'production' };
  for (const k of keep) if (process.env[k]) env[k] = process.env[k] as string;
  return env;
}

export function taskApiTemplate(image: TaskApiImage, plan: LocalPlatformPlan, databaseUrl: string): ReplicaTemplate {
  return {
    command: process.execPath,
    args: [image.file, 'serve'],
    cwd: PROJECT_ROOT,
    env: {
      ...baseEnv(databaseUrl),
      PORT: '0',
      POOL_SIZE: String(plan.pool.size),
      POOL_ACQUIRE_TIMEOUT_MS: String(plan.pool.acquireTimeoutMs),
      STATEMENT_TIMEOUT_MS: String(plan.pool.statementTimeoutMs),
      ...(plan.faultInjection.length > 0 ? { FAULT_INJECTION: plan.faultInjection.join(',') } : {}),
    },
    startTimeoutMs: 30_000,
  };
}

export interface SeedResult {
  rows: number;
  ids: { min: number; max: number };
}

/** A seed started before its database exists (an init Job whose pod starts beside the database's). */
export interface StartedSeed {
  /** Gives the seed its database; resolves once its rows are committed. */
  seed(databaseUrl: string): Promise<SeedResult>;
  /** Ends a seed that will not be given its database (the deploy failed first); nothing once it exited. */
  stop(): void;
}

/**
 * Starts the Task API's `seed` (the schema and the deterministic rows, before any replica starts)
 * ahead of its database: with DATABASE_URL=- it loads and generates rows while initdb runs, and
 * reads the URL from stdin when `seed()` gives it. Its own process group, known to the reaper from
 * the moment it is spawned; should the harness die, its stdin ends and it exits by itself too.
 */
export function startSeed(image: TaskApiImage, rows: number, opts: { timeoutMs?: number; reaping?: Reaping } = {}): StartedSeed {
  const child = spawn(process.execPath, [image.file, 'seed'], {
    cwd: PROJECT_ROOT,
    env: { ...baseEnv('-'), SEED_ROWS: String(rows) },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid) opts.reaping?.watchGroup(pid, 'SIGKILL');
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
  // A seed that died before its URL came: the write fails (EPIPE) and its exit says why.
  child.stdin.on('error', () => undefined);
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null || !pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(kill, opts.timeoutMs ?? 60_000);
  const result = new Promise<SeedResult>((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new HarnessError(`seeding the database failed: ${e.message}`, { cause: e }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (pid) opts.reaping?.forget({ pid });
      const line = out.split('\n').find((l) => l.includes('"seeded"'));
      if (code !== 0 || !line) return reject(new HarnessError(`seeding the database failed (exit ${code}):\n${err}`));
      const msg = JSON.parse(line) as SeedResult;
      resolve({ rows: msg.rows, ids: msg.ids });
    });
  });
  result.catch(() => undefined); // a seed stopped before seed() was called: nobody awaits it
  return {
    seed: (databaseUrl) => {
      child.stdin.end(`${databaseUrl}\n`);
      return result;
    },
    stop: kill,
  };
}

