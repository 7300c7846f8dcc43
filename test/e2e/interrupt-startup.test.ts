import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, type CliRun } from '../helpers/cli.js';
import {
  bundleLeftovers,
  commandLine,
  describeProcess,
  descendants,
  isAlive,
  listeningPorts,
  newShmSegments,
  privateTmp,
  processesMentioning,
  stillListening,
  waitFor,
} from '../helpers/leftovers.js';

/**
 * The harness interrupted at each step of start-up, by SIGKILL (nothing of the harness runs
 * afterwards: the reaper and the children's own IPC watch must clean up) and by SIGTERM / Ctrl-C
 * (the harness tears down and exits 130). Each step is hit by watching for what marks it — a temp
 * directory, a process with a given command line — and killing the harness the moment it appears.
 */
const SCENARIO = 'test/scenarios/pod-kill-short.yaml';

type Tmp = ReturnType<typeof privateTmp>;

/**
 * One private TMPDIR for every run of this file, one at a time: each run must leave it as it found
 * it, and tsx's compile cache in it (not a leftover) stays warm from one run to the next.
 */
const TMP = privateTmp();

interface Step {
  name: string;
  reached(procs: string[], tmp: Tmp): boolean;
}

const STEPS: Step[] = [
  // (The Task API's Service runs in the harness: it hands connections over; no process of its own.)
  { name: 'the PostgreSQL temp directory created', reached: (_, tmp) => tmp.entries().some((e) => e.startsWith('gameday-pg-')) },
  { name: 'initdb running', reached: (procs) => procs.some((c) => /\/initdb\b/.test(c)) },
  { name: 'the server starting', reached: (procs) => procs.some((c) => /\/postgres -D /.test(c)) },
  { name: 'seeding', reached: (procs) => procs.some((c) => /task-api-\S+\.mjs seed$/.test(c)) },
  { name: 'the replicas starting', reached: (procs) => procs.some((c) => /task-api-\S+\.mjs serve$/.test(c)) },
];

/** What the run started, gathered while it lives: every descendant process and the ports they listen on. */
class Observed {
  readonly pids = new Set<number>();
  readonly ports = new Set<number>();

  constructor(private readonly root: number) {}

  /** Looks again; returns the command lines of the live descendants. */
  look(): string[] {
    const now = descendants(this.root);
    for (const pid of now) this.pids.add(pid);
    for (const port of listeningPorts(now)) this.ports.add(port);
    return now.map(commandLine);
  }
}

async function expectNothingLeft(run: CliRun, harnessPid: number, seen: Observed, tmp: Tmp, newSegments: () => string[]): Promise<void> {
  const alive = (): string[] => [...new Set([...seen.pids, ...processesMentioning(tmp.dir)])].filter(isAlive).map(describeProcess);
  // Bounds, not expected durations: the reaper gives PostgreSQL up to 5 s to stop before SIGKILL.
  await waitFor(() => alive().length === 0, 15_000, 50);
  expect(alive(), run.stderr()).toEqual([]);
  expect(stillListening(seen.ports)).toEqual([]);
  await waitFor(() => tmp.entries().length === 0, 5000, 50);
  expect(tmp.entries()).toEqual([]);
  expect(bundleLeftovers(harnessPid)).toEqual([]);
  expect(newSegments()).toEqual([]);
}

async function interruptAt(step: Step, signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT'): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'gd-startup-'));
  const tmp = TMP;
  const newSegments = newShmSegments();
  const run = startCli(['run', SCENARIO, '--out', out], { TMPDIR: tmp.dir }, { detached: true });
  const pid = run.child.pid as number;
  const seen = new Observed(pid);
  try {
    let exited = false;
    void run.exit.then(() => (exited = true));
    const reached = await waitFor(() => step.reached(seen.look(), tmp) || exited, 60_000, 10);
    expect(exited, `exited before ${step.name}\n${run.stderr()}`).toBe(false);
    expect(reached, `never saw ${step.name}\n${run.stderr()}`).toBe(true);
    // Ctrl-C at a terminal reaches the whole foreground process group; SIGTERM and SIGKILL the harness alone.
    process.kill(signal === 'SIGINT' ? -pid : pid, signal);
    // Whatever the harness still starts while it tears down is seen too.
    await waitFor(() => {
      seen.look();
      return exited;
    }, 60_000, 20);
    const exit = await run.exit;
    if (signal === 'SIGKILL') expect(exit.signal).toBe('SIGKILL');
    else expect(exit, run.stderr()).toEqual({ code: 130, signal: null });
    expect(seen.pids.size).toBeGreaterThan(0);
    await expectNothingLeft(run, pid, seen, tmp, newSegments);
  } finally {
    run.child.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
  }
}

describe('the harness killed (SIGKILL) during start-up leaves nothing behind', () => {
  it.each(STEPS)('at $name', { timeout: 90_000 }, (step) => interruptAt(step, 'SIGKILL'));
});

describe('SIGTERM or Ctrl-C during start-up: teardown, then exit 130 with nothing left', () => {
  const pick = (name: string): Step => STEPS.find((s) => s.name === name) as Step;
  it.each([
    { signal: 'SIGTERM', step: pick('the PostgreSQL temp directory created') },
    { signal: 'SIGINT', step: pick('initdb running') },
    { signal: 'SIGTERM', step: pick('the server starting') },
    { signal: 'SIGINT', step: pick('seeding') },
    { signal: 'SIGTERM', step: pick('the replicas starting') },
    { signal: 'SIGINT', step: pick('the PostgreSQL temp directory created') },
  ] as const)('$signal at $step.name', { timeout: 90_000 }, ({ signal, step }) => interruptAt(step, signal));
});

describe('a signal while the command is still loading', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: exit 130 at once, nothing started, nothing left', { timeout: 60_000 }, async (signal) => {
    const out = mkdtempSync(join(tmpdir(), 'gd-early-'));
    const tmp = privateTmp();
    const newSegments = newShmSegments();
    const run = startCli(['run', SCENARIO, '--out', out], { TMPDIR: tmp.dir, GAMEDAY_FROM_SOURCE: '1' }, { detached: true });
    const pid = run.child.pid as number;
    const seen = new Observed(pid);
    try {
      // From the sources (GAMEDAY_FROM_SOURCE), whose loading takes a second or more: tsx making its
      // cache in TMPDIR marks it. (Node's own SIGINT/SIGTERM handlers are installed at start-up, so
      // the kernel's caught-signal mask cannot tell when bin.mjs has trapped them.)
      const loading = (): boolean => readdirSync(tmp.dir).some((e) => /^tsx-\d+$/.test(e));
      expect(await waitFor(loading, 10_000, 2)).toBe(true);
      process.kill(pid, signal);
      let exited = false;
      void run.exit.then(() => (exited = true));
      await waitFor(() => {
        seen.look();
        return exited;
      }, 30_000, 20);
      expect(await run.exit, run.stderr()).toEqual({ code: 130, signal: null });
      await expectNothingLeft(run, pid, seen, tmp, newSegments);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
    }
  });
});

