import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/cli.js';
import { privateTmp } from '../helpers/leftovers.js';

const tempDir = lazyTempDir('gd-cli-');

const BAD = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: bad }
spec:
  duration: 5s
  colour: blue
  faults: [{ name: k, kind: pod-kill, at: 9s }]
`;

describe('the gameday command', () => {
  it('--help lists the commands and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const text of ['run', 'validate', 'Exit codes', '130']) expect(r.stdout).toContain(text);
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['run'])).code).toBe(2);
  });

  it('validate: 0 for the shipped scenarios, 2 with every problem for a bad one', async () => {
    const ok = await runCli(['validate', 'scenarios/pod-kill.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('scenarios/pod-kill.yaml: valid');
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, BAD);
    const bad = await runCli(['validate', 'scenarios/pod-kill.yaml', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: spec.colour: expected no such key`);
    expect(bad.stderr).toContain(`${file}: spec.faults[0].duration: expected to end by spec.duration`);
    expect(bad.stderr).toContain('1 of 2 scenario file(s) invalid');
  });

  it('run: an invalid scenario exits 2 and starts nothing (no output directory, no temp files)', async () => {
    const file = join(tempDir(), 'bad-run.yaml');
    writeFileSync(file, BAD);
    const tmp = privateTmp();
    const out = join(tempDir(), 'never');
    const r = await runCli(['run', file, '--out', out], { TMPDIR: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('spec.colour');
    expect(existsSync(out)).toBe(false);
    expect(tmp.entries()).toEqual([]);
  });

  it('run: a missing file exits 2 naming it', async () => {
    const r = await runCli(['run', join(tempDir(), 'nope.yaml'), '--out', join(tempDir(), 'never2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yaml: (root): expected a readable scenario file, found ENOENT');
  });

  it('run: an unreachable database is a harness/environment failure, exit 3, with cleanup', async () => {
    const tmp = privateTmp();
    const r = await runCli(['run', 'test/scenarios/pod-kill-short.yaml', '--out', join(tempDir(), 'envfail')], { DATABASE_URL: 'postgres://postgres:x@127.0.0.1:1/postgres', TMPDIR: tmp.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/seeding the database failed/);
    expect(tmp.entries()).toEqual([]);
  });
});
