import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Reaper } from '../../harness/platform/local/reaper.js';
import { commandLine, descendants, describeProcess, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

const VICTIM = fileURLToPath(new URL('./reaper-victim.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the reaper', () => {
  it('reaps what was registered the instant before the harness was SIGKILLed, then exits', { timeout: 30_000 }, async () => {
    const tmp = privateTmp();
    const dir = join(tmp.dir, 'resource');
    const idsFile = join(tmp.dir, 'ids.json');
    const child = spawn(process.execPath, ['--import', 'tsx', VICTIM, dir, idsFile], { cwd: ROOT, stdio: 'inherit' });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    expect(exit).toBe('SIGKILL');
    const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as { reaper: number; sleeper: number };
    const left = (): string[] => [ids.sleeper, ids.reaper].filter(isAlive).map(describeProcess);
    expect(await waitFor(() => left().length === 0 && !existsSync(dir), 10_000, 25)).toBe(true);
    expect(left()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('exits without touching anything once released', { timeout: 30_000 }, async () => {
    const reaper = await Reaper.start();
    const pid = reaper.pid as number;
    const tmp = privateTmp();
    reaper.watchPath(tmp.dir);
    await reaper.release();
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    expect(existsSync(tmp.dir)).toBe(true);
  });

  it('started ahead, is the one the next start() takes; one gone before that is replaced', { timeout: 30_000 }, async () => {
    const reaperChild = (): number | undefined => descendants(process.pid).find((pid) => commandLine(pid).includes('reaper-main'));
    Reaper.startAhead();
    const aheadPid = await waitForValue(reaperChild);
    const taken = await Reaper.start();
    expect(taken.pid).toBe(aheadPid);
    await taken.release();
    expect(await waitFor(() => reaperChild() === undefined, 5000)).toBe(true);

    Reaper.startAhead();
    const doomed = await waitForValue(reaperChild);
    process.kill(doomed, 'SIGKILL');
    expect(await waitFor(() => !isAlive(doomed), 5000)).toBe(true);
    const fresh = await Reaper.start();
    expect(fresh.pid).not.toBe(doomed);
    expect(isAlive(fresh.pid as number)).toBe(true);
    await fresh.release();
  });
});

async function waitForValue(get: () => number | undefined): Promise<number> {
  let value: number | undefined;
  expect(await waitFor(() => (value = get()) !== undefined, 10_000, 20)).toBe(true);
  return value as number;
}
