import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * How busy the machine was with work other than this run: machine-wide CPU time (/proc/stat)
 * minus the CPU time of this process and every descendant (replicas, Service, PostgreSQL, reaped
 * children included), over the run. Latency on a 2-core machine moves with other tenants' load,
 * so the regression gate needs to know whether two runs saw the same machine. Linux only; elsewhere
 * (or if /proc cannot be read) nothing is measured.
 */
export interface HostLoad {
  /** Mean cores busy with other work during the run. */
  foreignCores: number;
  /** Mean cores used by this run's process tree. */
  ownCores: number;
  cpus: number;
  seconds: number;
}

const TICKS_PER_SEC = 100; // USER_HZ on Linux

interface Reading {
  atMs: number;
  machine: number;
  own: number;
}

function machineBusyTicks(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  return fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + (v || 0)), 0);
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime + cutime + cstime of `root` and its descendants, in ticks. */
function treeTicks(root: number): number {
  const parentOf = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    parentOf.set(Number(entry), Number(f[1]));
    ticks.set(Number(entry), [11, 12, 13, 14].reduce((s, i) => s + Number(f[i] ?? 0), 0));
  }
  let total = ticks.get(root) ?? 0;
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop() as number;
    for (const [pid, ppid] of parentOf) {
      if (ppid !== p) continue;
      total += ticks.get(pid) ?? 0;
      frontier.push(pid);
    }
  }
  return total;
}

export class HostLoadMeter {
  private first?: Reading;
  private last?: Reading;

  constructor(private readonly root = process.pid) {}

  /** Takes a reading; call it at the run's start, during it (optional) and at its end. */
  sample(atMs: number): void {
    try {
      const r = { atMs, machine: machineBusyTicks(), own: treeTicks(this.root) };
      this.first ??= r;
      this.last = r;
    } catch {
      // not Linux, or /proc unreadable: no measurement
    }
  }

  result(): HostLoad | undefined {
    const { first, last } = this;
    if (!first || !last || last.atMs - first.atMs < 1000) return undefined;
    const seconds = (last.atMs - first.atMs) / 1000;
    const cores = (t: number): number => Math.round((t / TICKS_PER_SEC / seconds) * 100) / 100;
    const own = cores(last.own - first.own);
    return { foreignCores: Math.max(0, cores(last.machine - first.machine) - own), ownCores: own, cpus: cpus().length, seconds };
  }
}
