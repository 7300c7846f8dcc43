import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs the Task API (fixtures/task-api/main.ts) as a real child process, as the harness will. */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../fixtures/task-api/main.ts', import.meta.url));
const TASK_API_VARIABLES = [
  'DATABASE_URL', 'PORT', 'HOST', 'POOL_SIZE', 'POOL_ACQUIRE_TIMEOUT_MS', 'STATEMENT_TIMEOUT_MS',
  'REPLICA_NAME', 'SEED_ROWS', 'SEED', 'FAULT_INJECTION',
  'REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS', 'CONNECTION_TIMEOUT_MS',
];
const START_TIMEOUT_MS = 20_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Replica {
  proc: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** How long from spawn to the `listening` line. */
  startMs: number;
  exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
}

/** Every process spawned here, so a test that fails half-way still leaves none behind. */
const live = new Set<ChildProcess>();

function taskApiEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of TASK_API_VARIABLES) delete base[name];
  return { ...base, ...env };
}

function spawnTaskApi(command: string, env: Record<string, string>, ipc: boolean): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, command], {
    cwd: REPO_ROOT,
    env: taskApiEnv(env),
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

function exitOf(proc: ChildProcess): Promise<Exit> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => (text += chunk));
  return () => text;
}

/** Spawns `serve` and resolves once it printed its `listening` line. */
export async function startReplica(env: Record<string, string>, options: { ipc?: boolean } = {}): Promise<Replica> {
  const startedAt = performance.now();
  const proc = spawnTaskApi('serve', env, options.ipc ?? false);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  const exited = exitOf(proc);
  const listening = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in ${START_TIMEOUT_MS} ms:\n${stderr()}`)), START_TIMEOUT_MS);
    proc.stdout?.on('data', () => {
      const line = stdout().split('\n').find((l) => l.includes('"listening"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { port: number; pid: number });
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`task-api exited (${e.code ?? e.signal}) before listening:\n${stderr()}`));
    });
  });
  const startMs = performance.now() - startedAt;
  const url = `http://127.0.0.1:${listening.port}`;
  return { proc, pid: listening.pid, port: listening.port, url, startMs, exited, stdout, stderr };
}

export interface CommandResult extends Exit {
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs a command (`seed`, or anything, to test usage errors) to completion. */
export async function runTaskApi(command: string, env: Record<string, string>): Promise<CommandResult> {
  const startedAt = performance.now();
  const proc = spawnTaskApi(command, env, false);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  const exit = await exitOf(proc);
  return { ...exit, stdout: stdout(), stderr: stderr(), elapsedMs: performance.now() - startedAt };
}

/** Sends `signal` and waits for the exit (SIGKILL after `graceMs`, as a supervisor would). */
export async function stopReplica(replica: Replica, signal: NodeJS.Signals = 'SIGTERM', graceMs = 12_000): Promise<Exit> {
  replica.proc.kill(signal);
  const timer = setTimeout(() => replica.proc.kill('SIGKILL'), graceMs);
  try {
    return await replica.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** For afterEach/afterAll: kills whatever is still running and waits until it is gone. */
export async function killAllTaskApis(): Promise<number> {
  const procs = [...live];
  for (const proc of procs) proc.kill('SIGKILL');
  await Promise.all(procs.map(exitOf));
  return procs.length;
}

export function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}
