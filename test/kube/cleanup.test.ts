import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupCommand } from '../../harness/cli/cleanup-command.js';
import { runCli, startCli, type CliRun } from '../helpers/cli.js';
import { startFakeKube, type FakeKube } from './fake/index.js';

// The harness as a user runs it (a child process) against the fake API server; the pods are the fake
// kubelet's alone (no process behind them: the load's requests fail, which these tests do not judge).
const NS = 'gameday-cleanup';
let kube: FakeKube;
let dir: string;
let scenario: string;

const SCENARIO = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kube-cleanup }
spec:
  duration: 30s
  warmup: 1s
  platform:
    kubernetes:
      namespace: ${NS}
      allowNamespaces: [${NS}]
      deploy: { replicas: 2, seedRows: 10 }
      readyTimeout: 20s
  load: { model: open, rate: 5, connections: 2, timeout: 500ms, mix: { get: 100, create: 0, update: 0, list: 0 } }
  faults:
    - { name: kill-one, kind: pod-kill, at: 2s, duration: 20s, mode: one }
  slo: { latencyP95: 500ms }
  recovery: { window: 5s, sustain: 1s }
`;

beforeAll(async () => {
  kube = await startFakeKube({ namespaces: ['default', { name: NS, labels: { environment: 'staging' } }], timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 } });
  dir = await mkdtemp(join(tmpdir(), 'gameday-kube-cleanup-'));
  scenario = join(dir, 'scenario.yaml');
  await writeFile(scenario, SCENARIO);
});
afterAll(async () => {
  await kube?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ KUBECONFIG: kube.kubeconfigPath, HOME: dir });

/** Every object in the namespace carrying a run label, as kind/name. */
function labelled(run?: string): string[] {
  const kinds = ['podchaos', 'secrets', 'services', 'statefulsets', 'jobs', 'deployments', 'replicasets', 'pods'];
  return kinds.flatMap((k) =>
    kube
      .list(k, NS)
      .filter((o) => (run === undefined ? o.metadata.labels?.['gameday.dev/run'] !== undefined : o.metadata.labels?.['gameday.dev/run'] === run))
      .map((o) => `${k}/${o.metadata.name}`),
  );
}

/** Waits until the run's PodChaos exists (the harness is mid-fault); returns the run id from its label. */
async function midFault(run: CliRun): Promise<string> {
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const chaos = kube.list('podchaos', NS)[0];
    if (chaos && (chaos.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'AllInjected' && c.status === 'True')) {
      return chaos.metadata.labels?.['gameday.dev/run'] ?? '';
    }
    if (run.child.exitCode !== null) throw new Error(`the run ended early (${run.child.exitCode}):\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no injected PodChaos after 40 s:\n${run.stdout()}\n${run.stderr()}`);
}

describe('a Kubernetes run leaves nothing behind', () => {
  it('Ctrl-C mid-fault: the PodChaos and every object of the run are deleted, exit 130', async () => {
    const run = startCli(['run', scenario, '--out', join(dir, 'sigint')], env());
    const id = await midFault(run);
    expect(labelled(id).length).toBeGreaterThan(5);
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code).toBe(130);
    expect(labelled(id)).toEqual([]);
    // Context and namespace were printed before anything was applied.
    expect(run.stdout()).toContain(`kubernetes: context fake, namespace ${NS}`);
  }, 60_000);

  it('SIGKILL mid-fault leaves the run\'s objects; gameday cleanup --run finds them by label and removes them, verified', async () => {
    const run = startCli(['run', scenario, '--out', join(dir, 'sigkill')], env());
    const id = await midFault(run);
    run.child.kill('SIGKILL');
    await run.exit;
    const left = labelled(id);
    expect(left).toEqual(expect.arrayContaining([`podchaos/kill-one-${id}`, 'deployments/task-api', 'statefulsets/postgres']));
    // Another run's object is not touched by --run.
    kube.create('configmaps', { metadata: { name: 'other-run', namespace: NS, labels: { 'gameday.dev/run': 'otherrun' } }, data: {} });
    const cleaned = await runCli(['cleanup', '--run', id, '--namespace', NS], env());
    expect(cleaned.stderr).toBe('');
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toContain(`deleted PodChaos/kill-one-${id}`);
    expect(cleaned.stdout).toMatch(/\d+ objects deleted; none left/);
    expect(labelled(id)).toEqual([]);
    expect(kube.get('configmaps', NS, 'other-run')).toBeDefined();
    // --all-runs takes the rest (in-process: the command's path through the CLI is proven above).
    const said: string[] = [];
    const all = await cleanupCommand({ allRuns: true, namespace: NS, timeoutMs: 10_000, env: env() }, { info: (l) => said.push(l), error: (l) => said.push(l) });
    expect(all).toBe(0);
    expect(said).toContain('deleted ConfigMap/other-run');
    expect(labelled()).toEqual([]);
  }, 90_000);

  it('a chaos object whose controller is gone: its finalizer is cleared after half the timeout, then it is verified gone', async () => {
    kube.chaos.setRunning(false);
    try {
      kube.create('podchaos', {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'PodChaos',
        metadata: { name: 'stuck', namespace: NS, labels: { 'gameday.dev/run': 'stuckrun' }, finalizers: ['chaos-mesh/records'] },
        spec: { action: 'pod-kill', mode: 'one', selector: { namespaces: [NS] } },
      });
      const said: string[] = [];
      const started = Date.now();
      const code = await cleanupCommand({ run: 'stuckrun', namespace: NS, timeoutMs: 2_000, env: env() }, { info: (l) => said.push(l), error: (l) => said.push(l) });
      expect(code).toBe(0);
      expect(said).toContain('deleted PodChaos/stuck');
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(kube.get('podchaos', NS, 'stuck')).toBeUndefined();
    } finally {
      kube.chaos.setRunning(true);
    }
  });

  it('usage: neither --run nor --all-runs, both, or a malformed id, is exit 2 and touches nothing', async () => {
    const writes = kube.writes().length;
    const said: string[] = [];
    const out = { info: (l: string) => said.push(l), error: (l: string) => said.push(l) };
    const base = { namespace: NS, timeoutMs: 5_000, env: env() };
    expect(await cleanupCommand(base, out)).toBe(2);
    expect(await cleanupCommand({ ...base, run: 'abc', allRuns: true }, out)).toBe(2);
    expect(await cleanupCommand({ ...base, run: 'Not_An_Id' }, out)).toBe(2);
    expect(said).toEqual([
      "gameday cleanup: expected --run <id> (the run id printed at the start of the run, in result.json's kube.context event) or --all-runs",
      'gameday cleanup: give --run <id> or --all-runs, not both',
      'gameday cleanup: --run: expected a run id (1-20 lowercase letters and digits), found "Not_An_Id"',
    ]);
    expect(kube.writes().length).toBe(writes);
  });

  it('a context that is not in the kubeconfig is named, exit 3', async () => {
    const said: string[] = [];
    const code = await cleanupCommand({ allRuns: true, context: 'nope', timeoutMs: 5_000, env: env() }, { info: (l) => said.push(l), error: (l) => said.push(l) });
    expect(code).toBe(3);
    expect(said).toEqual(['gameday cleanup: context "nope" is not in the kubeconfig (contexts: fake)']);
  });
});
