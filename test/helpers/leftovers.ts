import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
