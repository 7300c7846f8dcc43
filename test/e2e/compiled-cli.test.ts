import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript (bin.mjs reads it before anything is compiled); no declarations
import { DIST, STAMP, compiledEntry, sourceState } from '../../harness/cli/build-state.mjs';
import { ROOT } from '../helpers/cli.js';

const run = promisify(execFile);
type State = { newestMtimeMs: number; files: number; paths: string };
const state = sourceState as (root: string) => State;
const entry = compiledEntry as (root: string) => string | undefined;

describe('the build stamp: compiled output is used only while it matches the sources', () => {
  const root = mkdtempSync(join(tmpdir(), 'gd-stamp-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const stamp = (): void => writeFileSync(join(root, DIST, STAMP), JSON.stringify(state(root)));
  const main = join(root, DIST, 'harness', 'cli', 'main.js');

  it('follows edits, added, removed and renamed sources', () => {
    mkdirSync(join(root, 'harness', 'core'), { recursive: true });
    mkdirSync(join(root, DIST), { recursive: true });
    writeFileSync(join(root, 'harness', 'a.ts'), 'export {};');
    writeFileSync(join(root, 'harness', 'core', 'b.ts'), 'export {};');
    writeFileSync(join(root, 'harness', 'types.d.ts'), 'export {};');
    const old = new Date(Date.now() - 60_000);
    for (const f of ['a.ts', 'core/b.ts']) utimesSync(join(root, 'harness', f), old, old);
    expect(entry(root), 'never built').toBeUndefined();
    stamp();
    expect(entry(root)).toBe(main);
    expect(state(root).files).toBe(2); // declarations are not compiled

    utimesSync(join(root, 'harness', 'core', 'b.ts'), new Date(), new Date()); // edited after the build
    expect(entry(root)).toBeUndefined();
    stamp();
    expect(entry(root)).toBe(main);

    writeFileSync(join(root, 'harness', 'c.ts'), 'export {};'); // added, with an old mtime
    utimesSync(join(root, 'harness', 'c.ts'), old, old);
    expect(entry(root)).toBeUndefined();
    stamp();
    rmSync(join(root, 'harness', 'c.ts')); // removed
    expect(entry(root)).toBeUndefined();
    stamp();
    writeFileSync(join(root, 'harness', 'd.ts'), 'export {};'); // c.ts renamed: same count, same mtimes
    utimesSync(join(root, 'harness', 'd.ts'), old, old);
    expect(entry(root)).toBeUndefined();

    rmSync(join(root, DIST, STAMP)); // a build under way removes the stamp first
    expect(entry(root)).toBeUndefined();
  });
});

/**
 * The compiled tree itself, run on plain node (no tsx anywhere): the CLI, and every harness
 * process and thread it starts from dist/ — reaper, Service process, latency proxy worker — plus
 * the Task API bundle, built from fixtures/ whichever way the harness runs.
 */
describe('npm run build: the compiled CLI', () => {
  const main = join(ROOT, DIST, 'harness', 'cli', 'main.js');
  beforeAll(async () => {
    const r = await run(process.execPath, ['harness/cli/build.mjs'], { cwd: ROOT });
    expect(r.stdout).toMatch(/compiled \d+ files to dist\//);
  }, 60_000);

  it('--help, validate and a bad scenario behave as from the sources', async () => {
    const help = await run(process.execPath, [main, '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('Exit codes:');
    const ok = await run(process.execPath, [main, 'validate', 'scenarios/pod-kill.yaml'], { cwd: ROOT });
    expect(ok.stdout).toContain('scenarios/pod-kill.yaml: valid');
    const bad = await run(process.execPath, [main, 'validate', 'package.json'], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('package.json');
  });

  it('starts the reaper, the Service process and the proxy worker from dist/, and bundles the Task API', async () => {
    const script = `
      import { readFileSync } from 'node:fs';
      const local = '${pathToFileURL(join(ROOT, DIST, 'harness/platform/local/')).href}';
      const { Reaper } = await import(local + 'reaper.js');
      const { ServiceProcess } = await import(local + 'service-process.js');
      const { LatencyProxy } = await import(local + 'latency-proxy.js');
      const { buildTaskApiImage } = await import(local + 'task-api.js');
      const cmdline = (pid) => readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').filter(Boolean);
      const reaper = await Reaper.start();
      const service = new ServiceProcess({ record: (e) => e });
      const port = await service.start();
      const out = { reaper: cmdline(reaper.pid), service: cmdline(service.pid), port };
      const proxy = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: port });
      out.proxyPort = proxy.port;
      await proxy.close();
      await service.close();
      const image = await buildTaskApiImage();
      out.image = readFileSync(image.file, 'utf8').length;
      await image.remove();
      await reaper.release();
      console.log(JSON.stringify(out));
    `;
    const dir = mkdtempSync(join(tmpdir(), 'gd-compiled-'));
    const file = join(dir, 'spawns.mjs');
    writeFileSync(file, script);
    const r = await run(process.execPath, [file], { cwd: ROOT, timeout: 45_000 }).finally(() => rmSync(dir, { recursive: true, force: true }));
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { reaper: string[]; service: string[]; port: number; proxyPort: number; image: number };
    expect(out.reaper.slice(1)).toEqual([join(ROOT, DIST, 'harness/platform/local/reaper-main.js')]);
    expect(out.service.slice(1)).toEqual([join(ROOT, DIST, 'harness/platform/local/service-main.js')]);
    expect(out.port).toBeGreaterThan(0);
    expect(out.proxyPort).toBeGreaterThan(0);
    expect(out.image).toBeGreaterThan(1000);
    expect(readFileSync(join(ROOT, DIST, STAMP), 'utf8')).toContain('newestMtimeMs');
  });
});
