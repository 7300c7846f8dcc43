import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultObjects, taskApiSelector, type KubernetesPlatformPlan } from '../../harness/kube/index.js';
import type { PoolExhaustionFaultPlan } from '../../harness/scenario/plan.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';

/**
 * The pool-exhaustion Jobs' scripts, run for real: the Job's container command under bash with its
 * environment, against a real PostgreSQL (psql from the machine, as the Job uses the postgres
 * image's). Deleting the Job is the process group being killed.
 */

const HAS_PSQL = spawnSync('psql', ['--version']).status === 0;
const MAX_CONNECTIONS = 20;

const k8s = {
  kind: 'kubernetes',
  namespace: 'staging',
  workload: { kind: 'deploy', image: 'i', postgresImage: 'postgres:17', replicas: 3, pool: { size: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 5000 }, seedRows: 10, terminationGracePeriodMs: 10_000, faultInjection: [], labels: {} },
  access: { kind: 'port-forward', service: 'task-api', port: 8000 },
  readyTimeoutMs: 60_000,
  guard: { allowNamespaces: ['staging'], allowProduction: false, allowModeAll: false },
} satisfies KubernetesPlatformPlan;

describe.skipIf(!HAS_PSQL)('pool-exhaustion Jobs against a real PostgreSQL', () => {
  let db: TestPostgres;
  let url: URL;
  const children: ChildProcess[] = [];
  /** The Jobs' scratch files (hold's per-session output) land here, as in the pod's /tmp. */
  const scratch = mkdtempSync(join(tmpdir(), 'gameday-pool-job-'));

  beforeAll(async () => {
    db = await startTestPostgres(MAX_CONNECTIONS);
    url = new URL(await db.createDatabase('tasks'));
    const c = new pg.Client({ connectionString: url.href });
    await c.connect();
    await c.query('CREATE TABLE tasks (id int PRIMARY KEY)');
    await c.end();
  }, 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await db?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Starts the Job's container command as its pod would, in a process group of its own. */
  function runJob(fault: PoolExhaustionFaultPlan): { child: ChildProcess; output: () => string; line: (re: RegExp) => Promise<string> } {
    const [job] = faultObjects(fault, 0, { platform: k8s, runId: 'test', podSelector: taskApiSelector('test') }) as any[];
    const c = job.spec.template.spec.containers[0];
    const fromSecret: Record<string, string> = { POSTGRES_USER: url.username, POSTGRES_PASSWORD: url.password, POSTGRES_DB: 'tasks' };
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', TMPDIR: scratch };
    for (const e of c.env) env[e.name] = e.value ?? fromSecret[e.valueFrom.secretKeyRef.key];
    env['PGHOST'] = '127.0.0.1';
    env['PGPORT'] = url.port;
    const child = spawn(c.command[0], c.command.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const line = (re: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no ${re} within 10 s; output: ${out}`)), 10_000);
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          clearTimeout(deadline);
          child.stdout!.off('data', check);
          resolve(m[0]);
        };
        child.stdout!.on('data', check);
        check();
      });
    return { child, output: () => out, line };
  }

  async function query(sql: string, lockTimeoutMs?: number): Promise<{ ok: true; rows: unknown[] } | { ok: false; code: string }> {
    const c = new pg.Client({ connectionString: url.href, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      if (lockTimeoutMs) await c.query(`SET lock_timeout = ${lockTimeoutMs}`);
      return { ok: true, rows: (await c.query(sql)).rows };
    } catch (err) {
      return { ok: false, code: (err as { code?: string }).code ?? String(err) };
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  const base = { atMs: 0, replicas: { mode: 'one' as const } };

  it('lock: takes ACCESS EXCLUSIVE on tasks (queries time out on the lock), and deleting the Job releases it at once', async () => {
    const job = runJob({ kind: 'pool-exhaustion', name: 'lock', mode: 'lock', durationMs: 30_000, ...base });
    await job.line(/gameday: table tasks locked/);
    expect(await query('SELECT count(*) FROM tasks', 300)).toEqual({ ok: false, code: '55P03' });
    const held = await query("SELECT mode, granted FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gameday-fault-lock' AND l.relation = 'tasks'::regclass");
    expect(held).toEqual({ ok: true, rows: [{ mode: 'AccessExclusiveLock', granted: true }] });
    const killedAt = performance.now();
    process.kill(-job.child.pid!, 'SIGKILL');
    let free = await query('SELECT count(*)::int AS n FROM tasks', 200);
    while (!free.ok && performance.now() - killedAt < 5000) free = await query('SELECT count(*)::int AS n FROM tasks', 200);
    expect(free).toEqual({ ok: true, rows: [{ n: 0 }] });
    expect(performance.now() - killedAt).toBeLessThan(2000);
  });

  it('lock: ends by itself after the fault\'s duration', async () => {
    const job = runJob({ kind: 'pool-exhaustion', name: 'lock-short', mode: 'lock', durationMs: 1000, ...base });
    await job.line(/gameday: table tasks locked/);
    const code = await new Promise<number | null>((resolve) => job.child.once('exit', resolve));
    expect(code).toBe(0);
    expect(job.output()).toContain('gameday: lock released');
    expect(await query('SELECT 1 AS one FROM tasks LIMIT 1', 200)).toEqual({ ok: true, rows: [] });
  });

  it('hold: with a count, holds exactly that many sessions under its application name', async () => {
    const job = runJob({ kind: 'pool-exhaustion', name: 'hold-five', mode: 'hold', connections: 5, durationMs: 30_000, ...base });
    expect(await job.line(/gameday: holding \d+ connections/)).toBe('gameday: holding 5 connections');
    expect(await query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'gameday-fault-hold-five'")).toEqual({ ok: true, rows: [{ n: 5 }] });
    expect(readdirSync(scratch).filter((f) => f.startsWith('gameday-hold.')).length).toBeGreaterThanOrEqual(5);
    process.kill(-job.child.pid!, 'SIGKILL');
  });

  it('hold: without a count, takes every slot (new sessions are refused) until the Job is deleted', async () => {
    const job = runJob({ kind: 'pool-exhaustion', name: 'hold-all', mode: 'hold', durationMs: 30_000, ...base });
    const held = Number((await job.line(/gameday: holding \d+ connections/)).match(/\d+/)![0]);
    // Every slot but those other sessions held at that moment (none here but a closing one, at most).
    expect(held).toBeGreaterThanOrEqual(MAX_CONNECTIONS - 1);
    expect(held).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(await query("SELECT 1")).toEqual({ ok: false, code: '53300' });
    process.kill(-job.child.pid!, 'SIGKILL');
    const killedAt = performance.now();
    let after = await query('SELECT 1 AS one');
    while (!after.ok && performance.now() - killedAt < 5000) after = await query('SELECT 1 AS one');
    expect(after).toEqual({ ok: true, rows: [{ one: 1 }] });
  });
});
