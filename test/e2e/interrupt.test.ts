import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { startCli, type CliRun } from '../helpers/cli.js';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

/** Starts a Game Day and waits until load flows, collecting every process the run started. */
async function midRun(out: string, tmpDir: string, env: Record<string, string> = {}): Promise<{ run: CliRun; seen: Set<number> }> {
  const run = startCli(['run', 'test/scenarios/pod-kill-short.yaml', '--out', out], { TMPDIR: tmpDir, ...env }, { detached: true });
  try {
    expect(await waitFor(() => run.stdout().includes('s/14s'), 60_000, 50)).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    const seen = new Set<number>();
    // PostgreSQL, the Service, the replicas — in their own process groups, so look by ancestry.
    await waitFor(() => {
      for (const pid of descendants(run.child.pid)) seen.add(pid);
      return seen.size >= 6;
    }, 5000);
    expect(seen.size).toBeGreaterThanOrEqual(6);
    return { run, seen };
  } catch (err) {
    // Not mid-run as expected: the run (detached, in its own process group) is stopped the way a
    // user would, and killed if it does not exit, rather than left running after the test.
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    run.child.kill('SIGTERM');
    await run.exit;
    clearTimeout(killer);
    throw err;
  }
}

async function expectNothingLeft(seen: Set<number>, tmp: ReturnType<typeof privateTmp>, waitMs: number): Promise<void> {
  const alive = (): string[] => [...seen].filter(isAlive).map(describeProcess);
  await waitFor(() => alive().length === 0, waitMs);
  expect(alive()).toEqual([]);
  await waitFor(() => tmp.entries().length === 0, waitMs);
  expect(tmp.entries()).toEqual([]);
  rmSync(tmp.dir, { recursive: true, force: true });
}

describe.each([
  { signal: 'SIGINT', how: 'Ctrl-C at a terminal (the whole foreground process group)', group: true },
  { signal: 'SIGTERM', how: 'SIGTERM to the harness', group: false },
] as const)('$how in the middle of a Game Day', ({ signal, group }) => {
  it('stops load, tears everything down, keeps the partial result and exits 130', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-int-'));
    const tmp = privateTmp();
    let run: CliRun | undefined;
    try {
      const started = await midRun(out, tmp.dir);
      run = started.run;
      const { seen } = started;
      process.kill(group ? -(run.child.pid as number) : (run.child.pid as number), signal);
      const exit = await run.exit;
      expect(exit.code).toBe(130);
      expect(run.stderr()).toContain(`${signal}: stopping load`);
      await expectNothingLeft(seen, tmp, 2000);
      expect(existsSync(join(out, 'result.json'))).toBe(true);
      const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
      expect(r.runStatus).toBe('interrupted');
      expect(r.passed).toBe(false);
    } finally {
      run?.child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  });
});

describe('the harness killed outright (SIGKILL) mid-run', () => {
  it('leaves no process and no temp directory behind: replicas and the Service exit, the reaper stops PostgreSQL', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-kill-'));
    const tmp = privateTmp();
    // The database where a run puts it by default, in memory (/dev/shm), apart from the other temp files.
    const memory = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/gd-kill-db-') : mkdtempSync(join(tmpdir(), 'gd-kill-db-'));
    chmodSync(memory, 0o755); // PostgreSQL runs as its own user and must reach its directory
    try {
      const { run, seen } = await midRun(out, tmp.dir, { GAMEDAY_DB_DIR: memory });
      expect(readdirSync(memory)).toHaveLength(1); // the cluster's directory
      run.child.kill('SIGKILL');
      await run.exit;
      await expectNothingLeft(seen, tmp, 15_000);
      expect(readdirSync(memory)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(memory, { recursive: true, force: true });
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  });
});
