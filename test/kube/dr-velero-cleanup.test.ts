import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupCommand } from '../../harness/cli/cleanup-command.js';
import { formatProblem } from '../../harness/core/errors.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runCli, startCli, type CliRun } from '../helpers/cli.js';
import { startFakeKube, type FakeKube, type KubeObject } from './fake/index.js';

// The drill's Velero objects on the Kubernetes platform: the harness as a user runs it (a child
// process) against the fake API server serving the upstream Velero CRDs (strict validation). The
// simulated Velero controller here only moves a Backup to InProgress and leaves it there: the
// Backup a Ctrl-C or a dead harness interrupts.
const NS = 'gameday-drcleanup';
const RUN_LABEL = 'gameday.dev/run';
let kube: FakeKube;
let dir: string;
let scenario: string;

const SCENARIO = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kube-dr-cleanup }
spec:
  duration: 60s
  warmup: 0s
  platform:
    kubernetes:
      namespace: ${NS}
      allowNamespaces: [${NS}]
      deploy: { replicas: 1, seedRows: 10 }
      readyTimeout: 20s
  load: { model: open, rate: 5, connections: 1, timeout: 500ms, mix: { get: 100, create: 0, update: 0, list: 0 } }
  faults:
    - { name: dr, kind: disaster-recovery, at: 200ms, disasterAt: 40s, duration: 50s }
  slo: { latencyP95: 500ms }
  recovery: { window: 5s, sustain: 1s }
`;

beforeAll(async () => {
  kube = await startFakeKube({
    crdDir: new URL('../../../shared/velero-crds', import.meta.url).pathname,
    chaosMesh: false,
    namespaces: ['default', 'velero', { name: NS, labels: { environment: 'staging' } }],
    timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 },
  });
  // Velero's server takes the Backup (InProgress) and never finishes it.
  kube.store.subscribe((e) => {
    if (e.type !== 'ADDED' || e.resource.group !== 'velero.io' || e.resource.plural !== 'backups') return;
    const name = e.object.metadata.name;
    setTimeout(() => {
      const r = kube.store.resource('velero.io', 'backups');
      const cur = kube.store.get(r, 'velero', name);
      if (cur) kube.store.update(r, { ...cur, status: { phase: 'InProgress' } } as KubeObject, { subresource: 'status', internal: true });
    }, 30);
  });
  dir = await mkdtemp(join(tmpdir(), 'gameday-kube-dr-cleanup-'));
  scenario = join(dir, 'scenario.yaml');
  await writeFile(scenario, SCENARIO);
}, 30_000);
afterAll(async () => {
  await kube?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ KUBECONFIG: kube.kubeconfigPath, HOME: dir });
const backups = (): KubeObject[] => kube.list('backups', 'velero');
const phaseOf = (o: KubeObject): string | undefined => (o.status as { phase?: string } | undefined)?.phase;

/** Every object of the run: in its namespace, and its Velero objects in velero. */
function labelled(run: string): string[] {
  const own = ['secrets', 'services', 'statefulsets', 'jobs', 'deployments', 'pods'].flatMap((k) => kube.list(k, NS).filter((o) => o.metadata.labels?.[RUN_LABEL] === run).map((o) => `${k}/${o.metadata.name}`));
  const velero = ['backups', 'restores'].flatMap((k) => kube.list(k, 'velero').filter((o) => o.metadata.labels?.[RUN_LABEL] === run).map((o) => `${k}/velero/${o.metadata.name}`));
  return [...own, ...velero];
}

/** Waits until the run's Backup is InProgress (the harness waits on it); returns the run id from its label. */
async function midBackup(run: CliRun): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const b = backups().find((o) => phaseOf(o) === 'InProgress');
    if (b) return b.metadata.labels?.[RUN_LABEL] ?? '';
    if (run.child.exitCode !== null) throw new Error(`the run ended early (${run.child.exitCode}):\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no InProgress Backup after 30 s:\n${run.stdout()}\n${run.stderr()}`);
}

describe('the disaster-recovery drill\'s Velero objects on Kubernetes', () => {
  it('Ctrl-C while the Backup is InProgress: the run stops at once, deletes the Backup and everything of the run, verified, exit 130', async () => {
    const run = startCli(['run', scenario, '--out', join(dir, 'sigint')], env());
    const id = await midBackup(run);
    expect(labelled(id)).toContain(`backups/velero/gameday-${id}-dr-1`);
    const stoppedAt = Date.now();
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    // The Backup's own bound is 300 s: a run that waited for it would not be here.
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(code).toBe(130);
    expect(labelled(id)).toEqual([]);
    expect(backups()).toEqual([]);
    const result = JSON.parse(readFileSync(join(dir, 'sigint', 'result.json'), 'utf8')) as { journal: Array<{ type: string; detail?: Record<string, unknown> }> };
    expect(result.journal.find((e) => e.type === 'dr.interrupted')?.detail).toMatchObject({ outcome: 'untouched', reason: expect.stringContaining('during the backup') });
  }, 60_000);

  it('a harness killed mid-backup leaves its Backup in velero; cleanup fails naming it while its deletion is refused (exit 3), then removes it (exit 0)', async () => {
    const run = startCli(['run', scenario, '--out', join(dir, 'sigkill')], env());
    const id = await midBackup(run);
    run.child.kill('SIGKILL');
    await run.exit;
    const backup = `gameday-${id}-dr-1`;
    expect(labelled(id)).toEqual(expect.arrayContaining([`backups/velero/${backup}`, 'statefulsets/postgres']));
    // Another namespace's drill in velero is not this namespace's: --all-runs leaves it.
    const other = structuredClone(backups().find((b) => b.metadata.name === backup) as KubeObject);
    kube.create('backups', {
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: { name: 'gameday-elsewhere-dr-1', namespace: 'velero', labels: { [RUN_LABEL]: 'elsewhere' } },
      spec: { ...(other.spec as object), includedNamespaces: ['gameday-other'] },
    });

    // A Role without delete on velero.io backups: the Backup stays, named with why, exit 3.
    const allow = kube.faults.forbid({ verb: 'delete', group: 'velero.io', resource: 'backups' });
    try {
      const said: string[] = [];
      const code = await cleanupCommand({ run: id, namespace: NS, timeoutMs: 600, env: env() }, { info: (l) => said.push(`info: ${l}`), error: (l) => said.push(`error: ${l}`) });
      expect(code).toBe(3);
      expect(said).toContainEqual(expect.stringMatching(new RegExp(`^error: left: Backup velero/${backup} still exists \\(its deletion failed: .*forbidden`)));
      expect(kube.get('backups', 'velero', backup)).toBeDefined();
    } finally {
      allow();
    }
    const cleaned = await runCli(['cleanup', '--all-runs', '--namespace', NS], env());
    expect(cleaned.stderr).toBe('');
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toContain(`deleted Backup/velero/${backup}`);
    expect(labelled(id)).toEqual([]);
    expect(kube.get('backups', 'velero', 'gameday-elsewhere-dr-1')).toBeDefined();
    // A Role that may not list in velero: those kinds are not checked, and the command says so.
    const blind = kube.faults.forbid({ verb: 'list', group: 'velero.io', resource: 'restores' });
    try {
      const said: string[] = [];
      await cleanupCommand({ run: id, namespace: NS, timeoutMs: 600, env: env() }, { info: (l) => said.push(`info: ${l}`), error: (l) => said.push(`error: ${l}`) });
      expect(said).toContainEqual(expect.stringMatching(/^info: not checked \(cannot be listed\): Restore in namespace velero: .*forbidden/));
    } finally {
      blind();
    }
  }, 60_000);

  it('validation: the drill\'s namespace / restoreNamespace are refused, exit 2 material (path, expected, found)', () => {
    const text = SCENARIO.replace('duration: 50s }', 'duration: 50s, namespace: staging-copy, restoreNamespace: staging-restore-test }');
    const r = planFromText(text, { file: 'x.yaml', env: {}, kubernetes: {} });
    expect(r.plan).toBeUndefined();
    expect((r.problems ?? []).map(formatProblem)).toEqual([
      'x.yaml: spec.faults[0].namespace: expected no such field: the drill restores the run\'s own database in place (on Kubernetes the run\'s namespace, spec.platform.kubernetes.namespace or --namespace; no namespace mapping), found "staging-copy"',
      'x.yaml: spec.faults[0].restoreNamespace: expected no such field: the drill restores the run\'s own database in place (on Kubernetes the run\'s namespace, spec.platform.kubernetes.namespace or --namespace; no namespace mapping), found "staging-restore-test"',
    ]);
  });
});
