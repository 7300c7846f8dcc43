import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { privateTmp } from '../helpers/leftovers.js';

/**
 * Bad input through the real `gameday` command: exit 2 with a precise problem per file, every
 * file given to `validate` checked, nothing started, and no input can make it hang.
 */

let dir = '';
let socket: Server | undefined;

const HEAD = 'apiVersion: gameday.dev/v1alpha1\nkind: Scenario\n';
const BOMB = [
  `${HEAD}metadata: { name: bomb }`,
  'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`),
].join('\n');
const file = (name: string, text: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gd-bad-input-'));
  execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
  socket = createServer();
  await new Promise<void>((resolve) => socket!.listen(join(dir, 'socket.yaml'), resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI; a run that has not ended after `limitMs` is killed (and the test fails on its exit). */
async function cli(args: string[], limitMs: number, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const run = startCli(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), limitMs);
  try {
    const { code } = await run.exit;
    return { code, stdout: run.stdout(), stderr: run.stderr(), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

describe('gameday validate with hostile files', () => {
  it('an alias bomb is exit 2 with its line, and the files after it are still checked', async () => {
    const bomb = file('bomb.yaml', BOMB);
    const r = await cli(['validate', bomb, 'scenarios/pod-kill.yaml'], 60_000);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).toContain(`${bomb}: line 5, column 8: expected YAML aliases expanding to at most 100 nodes in all, found aliases that expand without bound`);
    expect(r.stdout).toContain('scenarios/pod-kill.yaml: valid');
    expect(r.stderr).toContain('1 of 2 scenario file(s) invalid');
    expect(r.code).toBe(2);
  });

  it('refuses a FIFO, a directory, /dev/zero, a socket and a 20 MB file at once, each named, and checks the rest', async () => {
    const big = file('big.yaml', Buffer.alloc(20 * 1024 * 1024, 'a'));
    const files = [join(dir, 'fifo.yaml'), dir, '/dev/zero', join(dir, 'socket.yaml'), big, 'scenarios/pod-kill.yaml'];
    // A FIFO with no writer would block a plain read forever: the run is killed after 60 s.
    const r = await cli(['validate', ...files], 60_000);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${join(dir, 'fifo.yaml')}: (root): expected a regular file (a scenario in YAML), found a FIFO (named pipe)`,
      `${dir}: (root): expected a regular file (a scenario in YAML), found a directory`,
      '/dev/zero: (root): expected a regular file (a scenario in YAML), found a character device',
      `${join(dir, 'socket.yaml')}: (root): expected a regular file (a scenario in YAML), found a socket`,
      `${big}: (root): expected a scenario file of at most 64 KiB (65536 bytes), found 20971520 bytes`,
      '5 of 6 scenario file(s) invalid',
    ]);
    expect(r.stdout).toContain('scenarios/pod-kill.yaml: valid');
    expect(r.code).toBe(2);
    // Node's start-up dominates; reading the 20 MB file in full used to take minutes.
    expect(r.ms).toBeLessThan(50_000);
  });

  it('validates many files in one call, every one reported', async () => {
    const good = file('good.yaml', `${HEAD}metadata: { name: good }\nspec: { duration: 30s }\n`);
    const absurd = file('absurd.yaml', `${HEAD}metadata: { name: absurd }\nspec:\n  duration: 10000000h\n  load: { model: open, rate: 1000000 }\n`);
    const noRoom = file('no-room.yaml', `${HEAD}metadata: { name: no-room }\nspec:\n  duration: 30s\n  faults: [{ name: k, kind: pod-kill, at: 10s, duration: 15s }]\n`);
    const spin = file('spin.yaml', `${HEAD}metadata: { name: spin }\nspec:\n  duration: 30s\n  platform: { local: { readinessProbe: { period: 0ms } } }\n  faults: [{ name: k, kind: pod-kill, at: 5s, duration: 0s }]\n`);
    const copies = Array.from({ length: 20 }, () => good);
    const r = await cli(['validate', absurd, noRoom, spin, ...copies], 60_000);
    expect(r.code).toBe(2);
    expect(r.stdout.match(/good\.yaml: valid/g)).toHaveLength(20);
    expect(r.stderr).toContain(`${absurd}: spec.duration: expected a duration such as "500ms", "30s" or "1m30s", from 1s to 24h (over 1h only with spec.limits.duration), found "10000000h"`);
    expect(r.stderr).toContain(`${noRoom}: spec.faults[0].duration: expected to end by 20s: spec.duration (30s) minus spec.recovery.window (10s), room to judge recovery, found ends at 25s`);
    expect(r.stderr).toContain(`${spin}: spec.platform.local.readinessProbe.period: expected a duration such as "500ms", "30s" or "1m30s", from 100ms to 5m, found "0ms"`);
    expect(r.stderr).toContain(`${spin}: spec.faults[0].duration: expected a duration such as "500ms", "30s" or "1m30s", from 1s to 24h, found "0s"`);
    expect(r.stderr).toContain('3 of 23 scenario file(s) invalid');
  });
});

describe('gameday run with hostile files', () => {
  it.each([
    ['a FIFO', () => join(dir, 'fifo.yaml'), 'found a FIFO (named pipe)'],
    ['an alias bomb', () => file('bomb-run.yaml', BOMB), 'an alias bomb'],
    ['a rate of 1,000,000 for 1000h', () => file('absurd-run.yaml', `${HEAD}metadata: { name: absurd }\nspec:\n  duration: 1000h\n  load: { model: open, rate: 1000000 }\n`), 'found "1000h"'],
  ])('%s: exit 2, nothing started (no output directory, no temp files)', async (_name, make, message) => {
    const scenario = make();
    const tmp = privateTmp();
    const out = join(dir, `never-${Math.random().toString(36).slice(2)}`);
    const r = await cli(['run', scenario, '--out', out], 60_000, { TMPDIR: tmp.dir });
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(tmp.entries()).toEqual([]);
  });
});
