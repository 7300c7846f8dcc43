import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Reaper } from '../../harness/platform/local/reaper.js';
import { describeProcess, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

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
});
