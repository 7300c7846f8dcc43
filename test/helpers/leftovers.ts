import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * PostgreSQL's POSIX shared memory segments (/dev/shm/PostgreSQL.*; a killed backend cannot remove
 * its own) that appear from now on: the returned function lists them.
 */
export function newShmSegments(): () => string[] {
  const segments = (): string[] => (existsSync('/dev/shm') ? readdirSync('/dev/shm').filter((n) => n.startsWith('PostgreSQL.')) : []);
  const before = new Set(segments());
  return () => segments().filter((n) => !before.has(n));
}

/** Pids of every live descendant of `root` (children, grandchildren...), from /proc. */
export function descendants(root = process.pid): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parens: the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop() as number;
    for (const [pid, ppid] of parentOf) {
      if (ppid === p) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}

/** Alive and not a zombie (an exited process its parent has not reaped yet is gone for our purposes). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until `predicate` holds, polling, for at most `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return predicate();
}

/** "pid state command line", for a readable failure message. */
export function describeProcess(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)} ${cmd}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/**
 * A temp directory of the test's own, to hand a child run as its TMPDIR: whatever the run leaves
 * in it is the run's, whatever else runs on the machine. Traversable by the postgres user.
 */
const privateTmps = new Set<string>();

export function privateTmp(): { dir: string; entries(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'gd-tmp-'));
  chmodSync(dir, 0o755);
  privateTmps.add(dir);
  // tsx keeps its compile cache in TMPDIR/tsx-<uid>: a cache shared by every run, not a leftover.
  return { dir, entries: () => readdirSync(dir).filter((e) => !/^tsx-\d+$/.test(e)) };
}

/** Removes every private temp directory this test file made (test/setup.ts runs it after each file). */
export function removePrivateTmps(): void {
  for (const dir of privateTmps) rmSync(dir, { recursive: true, force: true });
  privateTmps.clear();
}

/** The command line of `pid`, spaces between arguments ('' when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** TCP ports in LISTEN state, each with the socket inode that holds it (from /proc/net/tcp and tcp6). */
function listeningSockets(): Map<number, number> {
  const byInode = new Map<number, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; st 0A is LISTEN; the inode is the 10th field.
      if (f.length < 10 || f[3] !== '0A') continue;
      byInode.set(Number(f[9]), parseInt(f[1]?.split(':')[1] ?? '0', 16));
    }
  }
  return byInode;
}

/** The TCP ports the given processes listen on now. */
export function listeningPorts(pids: Iterable<number>): Set<number> {
  const sockets = listeningSockets();
  const ports = new Set<number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        const port = m ? sockets.get(Number(m[1])) : undefined;
        if (port !== undefined) ports.add(port);
      } catch {
        // closed meanwhile
      }
    }
  }
  return ports;
}

/** Which of `ports` something on this machine still listens on. */
export function stillListening(ports: Iterable<number>): number[] {
  const open = new Set(listeningSockets().values());
  return [...ports].filter((p) => open.has(p));
}

/**
 * Live processes whose command line or environment mentions `text` (a run's private TMPDIR is in
 * the environment of everything the run starts): leftovers even if their parentage was lost.
 */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const pid = Number(entry);
      if (!isAlive(pid)) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) || readFileSync(`/proc/${entry}/environ`, 'utf8').includes(text)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Bundled Task API files a harness with this pid left in the project's cache. */
export function bundleLeftovers(harnessPid: number): string[] {
  const dir = fileURLToPath(new URL('../../node_modules/.cache/gameday/', import.meta.url));
  try {
    return readdirSync(dir).filter((f) => f.startsWith(`task-api-${harnessPid}-`));
  } catch {
    return [];
  }
}
