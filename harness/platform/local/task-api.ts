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

/** The Task API built into one ES module: what a container image is to a pod. */
export interface TaskApiImage {
  file: string;
  remove(): Promise<void>;
}

/**
 * Bundles the Task API once per deployment, so a replica (and a replacement after a kill)
 * starts plain `node` on prebuilt code instead of compiling TypeScript at every start.
 * Dependencies stay external and resolve from the project's node_modules. The bundle is built in
 * memory (so it may run while the reaper starts) and written only once `reaping` is known, its
 * file registered before it exists.
 */
export async function buildTaskApiImage(reaping?: Promise<Reaping | undefined>): Promise<TaskApiImage> {
  let code: Uint8Array;
  try {
    const out = await build({ entryPoints: [ENTRY], bundle: true, write: false, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' });
    const first = out.outputFiles[0];
    if (!first) throw new Error('esbuild produced no output');
    code = first.contents;
  } catch (err) {
    throw new HarnessError(`building the Task API failed: ${(err as Error).message}`, { cause: err });
  } finally {
    // esbuild keeps a service process for further builds; a run builds once, so stop it.
    await stopEsbuild();
  }
  const reaper = await reaping;
  const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'gameday');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `task-api-${process.pid}-${Date.now()}.mjs`);
  reaper?.watchPath(file);
  const remove = async (): Promise<void> => {
    await rm(file, { force: true });
    reaper?.forget({ path: file });
  };
  try {
    await writeFile(file, code);
  } catch (err) {
    await remove();
    throw new HarnessError(`writing the Task API bundle to ${file} failed: ${(err as Error).message}`, { cause: err });
  }
  return { file, remove };
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

/**
 * Creates the schema and the deterministic seed rows once, before any replica starts (an init
 * Job). Its own process group, known to the reaper from the moment it is spawned.
 */
export function seedDatabase(image: TaskApiImage, databaseUrl: string, rows: number, opts: { timeoutMs?: number; reaping?: Reaping } = {}): Promise<SeedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [image.file, 'seed'], {
      cwd: PROJECT_ROOT,
      env: { ...baseEnv(databaseUrl), SEED_ROWS: String(rows) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    if (pid) opts.reaping?.watchGroup(pid, 'SIGKILL');
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
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
}
