import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../harness/cli/verify-command.js';
import { runCli } from '../helpers/cli.js';

// `gameday verify` as a user runs it: exit codes 0 / 1 / 2 / 3 and the messages.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-verify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('gameday verify', () => {
  it('exits 0 on the shipped manifests, OpenCost and the VPA recommendation not evaluated', async () => {
    const r = await runCli(['verify', 'fixtures/manifests/']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('verify: static (fixtures/manifests), namespace production');
    expect(r.stdout).toMatch(/SC-002: OpenCost query by team .* NOT EVALUATED/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('verify: PASSED — 5 passed, 0 failed, 2 not evaluated');
  }, 30_000);

  it('exits 1 with the problem named when a manifest breaks a criterion', async () => {
    const copy = join(dir, 'manifests');
    cpSync('fixtures/manifests', copy, { recursive: true });
    const file = join(copy, 'task-api-velero-schedule.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('ttl: 720h', 'ttl: 24h'));
    const r = await runCli(['verify', copy]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`  SC-005 Schedule velero/task-api-production-daily (${copy}/task-api-velero-schedule.yaml#1): ttl "24h", expected 720h (30 days)`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('verify: FAILED — 4 passed, 1 failed, 2 not evaluated');
  }, 30_000);

  it('exits 2 on bad input, every problem at once, nothing read', async () => {
    const r = await runCli(['verify', 'fixtures/manifests', '--live', '--opencost', 'http://example.com:9003', '--schedule', 'daily', '--namespace', 'Prod_1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'gameday verify: expected manifest paths or --live, not both, found 1 path(s) and --live',
      '--opencost: expected a loopback host (kubectl port-forward -n <ns> svc/opencost 9003), found example.com',
      '--schedule: expected a cron expression of five fields, such as "0 2 * * *", found "daily"',
      '--namespace: expected a DNS-1123 label (lowercase letters, digits, -), found "Prod_1"',
    ]);
    const run = async (paths: string[]): Promise<{ code: number; err: string[] }> => {
      const err: string[] = [];
      const code = await verifyCommand(paths, {}, { info: () => undefined, error: (l) => err.push(l) });
      return { code, err };
    };
    expect(await run([])).toEqual({ code: 2, err: ['gameday verify: expected manifest files or directories (static), or --live (the cluster), found neither'] });
    expect(await run([join(dir, 'nope'), 'fixtures/manifests/postgres.yaml'])).toEqual({
      code: 2,
      err: [`${join(dir, 'nope')}: (root): expected a manifest file or a directory of them, found nothing (no such file or directory)`],
    });
  }, 60_000);

  it('exits 3 when OpenCost or the cluster cannot be read', async () => {
    const port = await closedPort();
    const r = await runCli(['verify', 'fixtures/manifests', '--opencost', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(`SC-002: OpenCost unreachable at http://127.0.0.1:${port}/allocation/compute?window=1d&aggregate=label:team: ECONNREFUSED`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('verify: NOT READ — 5 passed, 0 failed, 1 not evaluated, 1 not read');
    // The same command in-process (the CLI's exit code is what verifyCommand returns): no kubeconfig.
    const err: string[] = [];
    const code = await verifyCommand([], { live: true, env: { KUBECONFIG: join(dir, 'no-kubeconfig') } }, { info: () => undefined, error: (l) => err.push(l) });
    expect(code).toBe(3);
    expect(err).toEqual([`gameday verify: KUBECONFIG names ${join(dir, 'no-kubeconfig')}, which does not exist`]);
  }, 60_000);
});
