import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript (bin.mjs reads it before anything is compiled); no declarations
import { compiledEntry as compiledEntryJs } from '../../harness/cli/build-state.mjs';
import type { JournalEvent } from '../../harness/core/journal.js';
import { BIN, ROOT } from '../helpers/cli.js';

const compiledEntry = compiledEntryJs as (root: string) => string | undefined;

/** Which code `gameday` runs: the compiled dist/ (fresh build) or the TypeScript sources through tsx. */
export type StartMode = 'compiled' | 'source';

const envFor = (mode: StartMode, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, CI: 'true', GAMEDAY_FROM_SOURCE: mode === 'source' ? '1' : '0', ...extra });

/** Wall time of one `gameday <args>` from spawn to exit, in ms; throws unless it exits 0. */
export function commandWall(args: string[], mode: StartMode): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: envFor(mode), stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`gameday ${args.join(' ')} exited ${code}`));
    });
  });
}

/**
 * Milliseconds from spawning `gameday run <scenario>` to its load's start (`run.started` in the journal:
 * the load's schedule starts right after it, so the first request is due within one arrival
 * interval): the run is interrupted at its first tick (exit 130 after cleanup) and the partial
 * result.json read back.
 */
export function commandToFirstRequest(scenario: string, mode: StartMode, env: Record<string, string> = {}): Promise<number> {
  return commandToFirstRequestSteps(scenario, mode, env).then((r) => r.totalMs);
}

/** The journal's milestones before the first request, in order: each step ends at its event. */
export const START_STEPS = ['run.deploying', 'prometheus.ready', 'database.ready', 'database.seeded', 'platform.ready', 'run.started'] as const;

/**
 * As commandToFirstRequest, with the milestones: ms from the command to each event of START_STEPS
 * the run recorded (prometheus.ready and database.seeded are absent when the run has none).
 */
export function commandToFirstRequestSteps(scenario: string, mode: StartMode, env: Record<string, string> = {}): Promise<{ totalMs: number; atMs: Partial<Record<(typeof START_STEPS)[number], number>> }> {
  const out = mkdtempSync(join(tmpdir(), 'gd-bench-start-'));
  return new Promise<{ totalMs: number; atMs: Partial<Record<(typeof START_STEPS)[number], number>> }>((resolve, reject) => {
    const startedWall = Date.now();
    const child = spawn(process.execPath, [BIN, 'run', scenario, '--out', out, '--json'], { cwd: ROOT, env: envFor(mode, env), stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGINT'), 60_000);
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString('utf8');
      if (buffered.includes('"event":"tick"')) child.kill('SIGINT');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 130) throw new Error(`gameday run exited ${code}, expected 130 after the first tick\n${stderr}`);
        const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { journal: JournalEvent[] };
        const started = result.journal.find((e) => e.type === 'run.started');
        if (!started) throw new Error('no run.started in the journal');
        const atMs: Partial<Record<(typeof START_STEPS)[number], number>> = {};
        for (const step of START_STEPS) {
          const e = result.journal.find((x) => x.type === step);
          if (e) atMs[step] = e.wallMs - startedWall;
        }
        resolve({ totalMs: started.wallMs - startedWall, atMs });
      } catch (err) {
        reject(err as Error);
      }
    });
  }).finally(() => rmSync(out, { recursive: true, force: true }));
}

/** Builds dist/ (npm run build) so the compiled side of the comparison runs the current sources. */
export function buildCompiled(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['harness/cli/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build exited ${code}`))));
  });
}

/** Whether bin.mjs would run dist/ now (a source edited since the build makes it run the sources). */
export function compiledIsFresh(): boolean {
  return compiledEntry(ROOT) !== undefined;
}
