import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { request } from 'undici';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import type { DisasterRecoveryFaultPlan } from '../../harness/faults/kinds/disaster-recovery.js';
import { DisasterRecovery } from '../../harness/faults/kinds/disaster-recovery-injector.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesPlatform } from '../../harness/platform/kubernetes/index.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { KubeObject } from '../kube/fake/index.js';
import { deployPlan, NAMESPACE, SEED_ROWS, startKubeWorld, type KubeWorld } from '../kube/platform-fixture.js';

/**
 * The drill on the Kubernetes platform, against the fake API server serving the upstream Velero
 * CRDs (strict validation) and real Task API processes behind its pods. A simulated Velero
 * controller keeps a copy of the namespace's objects at each Backup and recreates, at a Restore,
 * those the Restore selects (resources, labels, namespace mapping); the PostgreSQL pod's deletion
 * closes the real database to connections (the database lost: the Task API's readiness, a real
 * GET /health, fails) and its restored pod turning Ready opens it again.
 */
const STEP_MS = 150;
const RUN = 'drk1';
/** The phases seen by polling: a busy machine may poll past a short one, never past Completed. */
const PHASES = expect.stringMatching(/^(New > )?(InProgress > )?Completed$/);
const RUN_LABEL = 'gameday.dev/run';
/** Velero restores claims before the workloads that mount them. */
const BACKED_UP = ['persistentvolumeclaims', 'statefulsets', 'services', 'secrets', 'deployments', 'configmaps'];

let world: KubeWorld;
const snapshots = new Map<string, { plural: string; obj: KubeObject }[]>();
const dbLoss: string[] = [];
/** The database's fate follows the PostgreSQL pod while the drill runs (not at teardown). */
let following = false;
const pending = new Set<Promise<unknown>>();
/** Backups and Restores the simulated controller fails (the hook's pg_dump failing; a restore error). */
const failing = new Set<string>();

async function admin(sql: string): Promise<void> {
  const url = new URL(world.databaseUrl);
  url.pathname = '/postgres';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function track(p: Promise<unknown>): void {
  const settled = p.catch((err: unknown) => dbLoss.push(`error: ${(err as Error).message}`)).finally(() => pending.delete(settled));
  pending.add(settled);
}

beforeAll(async () => {
  world = await startKubeWorld({
    crdDir: new URL('../../../shared/velero-crds', import.meta.url).pathname,
    chaosMesh: false,
    namespaces: ['default', 'velero', { name: NAMESPACE, labels: { environment: 'staging' } }],
    timing: { scheduleMs: 20, createMs: 50, readyMs: 50, terminateMs: 20 },
  });
  const { kube } = world;
  // Readiness probed every 100 ms once Ready (default 1 s): the Task API's loss of its database is seen within the disaster.
  kube.cluster.readyProbePeriodMs = 100;
  const advance = (plural: string, name: string, done?: () => void): void => {
    const fails = failing.has(name);
    ['InProgress', fails ? 'Failed' : 'Completed'].forEach((phase, i) =>
      setTimeout(() => {
        const r = kube.store.resource('velero.io', plural);
        const cur = kube.store.get(r, 'velero', name);
        if (!cur) return;
        if (phase === 'Completed') done?.();
        kube.store.update(r, { ...cur, status: { phase, ...(fails ? { failureReason: `simulated failure of ${name}` } : {}) } }, { subresource: 'status', internal: true });
      }, STEP_MS * (i + 1)),
    );
  };
  kube.store.subscribe((e) => {
    const labels = e.object.metadata.labels ?? {};
    // The database's fate follows its pod.
    // As the StatefulSet controller does (the fake's does not): a claim per volumeClaimTemplate, with its labels.
    if (e.type === 'ADDED' && e.resource.plural === 'statefulsets' && e.object.metadata.namespace === NAMESPACE) {
      const claims = ((e.object.spec as { volumeClaimTemplates?: KubeObject[] }).volumeClaimTemplates ?? []).map((t) => ({ ...t, metadata: { ...t.metadata, name: `${t.metadata.name}-${e.object.metadata.name}-0`, namespace: NAMESPACE } }));
      const r = kube.store.resource('', 'persistentvolumeclaims');
      for (const c of claims) if (!kube.store.get(r, NAMESPACE, c.metadata.name)) kube.store.create(r, { ...c, apiVersion: 'v1', kind: 'PersistentVolumeClaim' } as KubeObject);
    }
    if (following && e.resource.plural === 'pods' && labels['app'] === 'postgres' && e.object.metadata.namespace === NAMESPACE) {
      const ready = ((e.object.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
      if (e.type === 'DELETED') {
        dbLoss.push('lost');
        track(admin("ALTER DATABASE tasks WITH ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'tasks' AND pid <> pg_backend_pid()"));
      } else if (ready && dbLoss.at(-1) === 'lost') {
        dbLoss.push('back');
        track(admin('ALTER DATABASE tasks WITH ALLOW_CONNECTIONS true'));
      }
    }
    if (e.type !== 'ADDED' || e.resource.group !== 'velero.io') return;
    const name = e.object.metadata.name;
    const spec = e.object.spec as { includedNamespaces: string[]; backupName: string; includedResources?: string[]; labelSelector?: { matchLabels: Record<string, string> }; namespaceMapping?: Record<string, string> };
    if (e.resource.plural === 'backups') {
      const copy = spec.includedNamespaces.flatMap((ns) => BACKED_UP.flatMap((plural) => kube.store.list(kube.store.resource(plural === 'statefulsets' || plural === 'deployments' ? 'apps' : '', plural), ns).map((obj) => ({ plural, obj: structuredClone(obj) }))));
      snapshots.set(name, copy);
      return advance('backups', name);
    }
    advance('restores', name, () => {
      const selected = (snapshots.get(spec.backupName) ?? []).filter(
        ({ plural, obj }) =>
          (spec.includedResources ?? ['*']).some((r) => r === '*' || r === plural) &&
          Object.entries(spec.labelSelector?.matchLabels ?? {}).every(([k, v]) => obj.metadata.labels?.[k] === v),
      );
      for (const { plural, obj } of selected) {
        const ns = spec.namespaceMapping?.[obj.metadata.namespace ?? ''] ?? obj.metadata.namespace;
        const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, ...meta } = obj.metadata as KubeObject['metadata'] & Record<string, unknown>;
        const { status: _s, ...rest } = obj;
        kube.store.create(kube.store.resource(plural === 'statefulsets' ? 'apps' : '', plural), { ...rest, metadata: { ...meta, namespace: ns, labels: { ...obj.metadata.labels, 'velero.io/restore-name': name } } } as KubeObject);
      }
    });
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('disaster-recovery drill on the Kubernetes platform (Velero)', () => {
  it('backs up the namespace, loses the PostgreSQL StatefulSet, restores it in place, and journals the drill in order; teardown leaves nothing', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const platform = new KubernetesPlatform(deployPlan({ workload: { ...(deployPlan().workload as Extract<ReturnType<typeof deployPlan>['workload'], { kind: 'deploy' }>), replicas: 2 } }), { journal }, clock, { env: world.env, runId: RUN });
    try {
      const deployment = await platform.deploy(new AbortController().signal);
      expect(platform.databaseRecovery).toBeDefined();
      const stsBefore = world.kube.get('statefulsets', NAMESPACE, 'postgres');
      const at = clock.now();
      const plan: DisasterRecoveryFaultPlan = { kind: 'disaster-recovery', name: 'dr-drill', atMs: at, durationMs: 40_000, disasterAtMs: at + 600, healthPath: '/health' };
      const drill = new DisasterRecovery(plan);
      following = true;
      const records = await drill.apply({ platform, deployment, journal, clock, random: Math.random }, new AbortController().signal);
      expect(records).toHaveLength(1);
      following = false;
      await Promise.all([...pending]);

      const events = journal.events();
      const dr = events.filter((e) => e.type.startsWith('dr.'));
      expect(dr.map((e) => e.type)).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.disaster', 'dr.restore-started', 'dr.restore-completed', 'dr.service-healthy']);
      const [, backedUp, disaster, , restored, healthy] = dr as [unknown, (typeof dr)[0], (typeof dr)[0], unknown, (typeof dr)[0], (typeof dr)[0]];

      // The Backup: the Schedule's template on the run's namespace, with the CHECKPOINT + pg_dump pre hook.
      const backupName = 'gameday-drk1-dr-1';
      const backup = world.kube.get('backups', 'velero', backupName) as KubeObject;
      expect(backup.metadata.labels).toMatchObject({ [RUN_LABEL]: RUN, 'backup-type': 'daily' });
      const bspec = backup.spec as { includedNamespaces: string[]; hooks: { resources: { includedNamespaces: string[]; pre: { exec: { command: string[]; onError: string } }[] }[] } };
      expect(bspec.includedNamespaces).toEqual([NAMESPACE]);
      expect(bspec.hooks.resources[0]?.includedNamespaces).toEqual([NAMESPACE]);
      expect(bspec.hooks.resources[0]?.pre[0]?.exec.command.join(' ')).toMatch(/CHECKPOINT;[\s\S]*pg_dump/);
      expect(bspec.hooks.resources[0]?.pre[0]?.exec.onError).toBe('Fail');
      expect(backup.status).toMatchObject({ phase: 'Completed' });
      expect(backedUp.detail).toMatchObject({ location: `velero backup velero/${backupName} (namespace ${NAMESPACE})`, tables: expect.any(Number), rows: expect.any(Number) });
      expect((backedUp.detail as { rows: number }).rows).toBeGreaterThanOrEqual(200);
      // Completed two simulated steps after creation.
      expect((backedUp.detail as { ms: number }).ms).toBeGreaterThanOrEqual(2 * STEP_MS - 10);

      // The disaster: StatefulSet (and its pods) gone at dr.disaster, the Task API left running.
      expect(disaster.detail).toMatchObject({ namespace: NAMESPACE, statefulSets: 'postgres', persistentVolumeClaims: 1 });
      expect(dbLoss[0]).toBe('lost');
      const notReady = events.filter((e) => e.type === 'replica.not-ready' && e.atMs > disaster.atMs - 1000 && e.atMs < healthy.atMs);
      expect(notReady.length).toBeGreaterThanOrEqual(1);

      // The Restore: in place, only PostgreSQL's objects, followed to Completed.
      const restore = world.kube.get('restores', 'velero', `${backupName}-restore`) as KubeObject;
      expect(restore.spec).toEqual({ backupName, includedNamespaces: [NAMESPACE], includedResources: ['statefulsets', 'persistentvolumeclaims', 'persistentvolumes'], labelSelector: { matchLabels: { app: 'postgres', [RUN_LABEL]: RUN } }, restorePVs: true });
      expect(restored.detail).toMatchObject({ restore: `velero/${backupName}-restore`, phases: PHASES });
      const stsAfter = world.kube.get('statefulsets', NAMESPACE, 'postgres') as KubeObject;
      expect(stsAfter.metadata.uid).not.toBe(stsBefore?.metadata.uid);
      expect(stsAfter.metadata.labels?.['velero.io/restore-name']).toBe(`${backupName}-restore`);
      // The claim restored from the Backup (restorePVs), not recreated by the controller.
      expect(world.kube.get('persistentvolumeclaims', NAMESPACE, 'data-postgres-0')?.metadata.labels).toMatchObject({ [RUN_LABEL]: RUN, 'velero.io/restore-name': `${backupName}-restore` });
      expect(dbLoss).toEqual(['lost', 'back']);

      // Healthy again: RTO from the disaster, at least the restore's own time.
      const rto = (healthy.detail as { rtoMs: number }).rtoMs;
      expect(rto).toBeGreaterThanOrEqual((restored.detail as { veleroMs: number }).veleroMs);
      expect(healthy.detail).toMatchObject({ replicas: 2 });
      const res = await request(`${deployment.serviceUrl}/tasks/1`, { reset: true });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      following = false;
      await Promise.all([...pending]);
      await platform.teardown();
    }
    // Teardown: nothing with the run's label, Velero's objects included.
    const left = world.kube.store.all().filter(({ object }) => object.metadata.labels?.[RUN_LABEL] === RUN && !object.metadata.deletionTimestamp);
    expect(left.map(({ resource, object }) => `${resource.plural}/${object.metadata.name}`)).toEqual([]);
    expect(journal.events().find((e) => e.type === 'kube.left-behind')).toBeUndefined();
  }, 90_000);

  it('a failed Backup leaves the database untouched; a failed Restore is retried with a Restore of its own and the database comes back', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const run = 'drk2';
    const plan0 = deployPlan();
    const platform = new KubernetesPlatform({ ...plan0, workload: { ...(plan0.workload as Extract<typeof plan0.workload, { kind: 'deploy' }>), replicas: 1 } }, { journal }, clock, { env: world.env, runId: run });
    try {
      const deployment = await platform.deploy(new AbortController().signal);
      const ctx = { platform, deployment, journal, clock, random: Math.random };
      const drillPlan = (name: string): DisasterRecoveryFaultPlan => ({ kind: 'disaster-recovery', name, atMs: clock.now(), durationMs: 30_000, disasterAtMs: clock.now() + 300, healthPath: '/health' });
      const uid = world.kube.get('statefulsets', NAMESPACE, 'postgres')?.metadata.uid;

      // The pre hook fails: the Backup ends Failed, the drill stops before any disaster.
      failing.add(`gameday-${run}-dr-1`);
      const first = new DisasterRecovery(drillPlan('dr-a'));
      await expect(first.apply(ctx, new AbortController().signal)).rejects.toThrow(`Velero Backup velero/gameday-${run}-dr-1 ended Failed: simulated failure of gameday-${run}-dr-1`);
      expect(world.kube.get('statefulsets', NAMESPACE, 'postgres')?.metadata.uid).toBe(uid);
      expect(journal.events().filter((e) => e.fault === 'dr-a').map((e) => e.type)).toEqual(['dr.backup-started']);

      // The second drill of the run: its own Backup; its first Restore fails, recover() restores with a second one.
      failing.add(`gameday-${run}-dr-2-restore`);
      following = true;
      const second = new DisasterRecovery(drillPlan('dr-b'));
      await expect(second.apply(ctx, new AbortController().signal)).rejects.toThrow(`ended Failed: simulated failure of gameday-${run}-dr-2-restore`);
      expect(world.kube.get('statefulsets', NAMESPACE, 'postgres')).toBeUndefined();
      await second.recover([], ctx);
      following = false;
      await Promise.all([...pending]);
      expect(journal.events().filter((e) => e.fault === 'dr-b').map((e) => e.type)).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.disaster', 'dr.restore-started', 'dr.restore-failed', 'dr.restore-started', 'dr.restore-completed', 'dr.interrupted']);
      expect(journal.events().find((e) => e.type === 'dr.interrupted' && e.fault === 'dr-b')?.detail).toMatchObject({ outcome: 'restored' });
      const retried = journal.events().filter((e) => e.type === 'dr.restore-completed' && e.fault === 'dr-b')[0];
      expect(retried?.detail).toMatchObject({ restore: `velero/gameday-${run}-dr-2-restore-2`, phases: PHASES });
      const sts = world.kube.get('statefulsets', NAMESPACE, 'postgres') as KubeObject;
      expect(sts.metadata.labels?.['velero.io/restore-name']).toBe(`gameday-${run}-dr-2-restore-2`);
      // The Task API serves again once the restored PostgreSQL is Ready.
      expect(dbLoss.slice(-2)).toEqual(['lost', 'back']);
    } finally {
      following = false;
      await Promise.all([...pending]);
      await platform.teardown();
    }
    const left = world.kube.store.all().filter(({ object }) => object.metadata.labels?.[RUN_LABEL] === run && !object.metadata.deletionTimestamp);
    expect(left.map(({ resource, object }) => `${resource.plural}/${object.metadata.name}`)).toEqual([]);
  }, 90_000);

  it('a Game Day with the drill under load: SC-007 (rto.restore) and the clients\' RTO measured from the cluster, nothing of Velero left', async () => {
    const scenario = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kube-dr-drill }
spec:
  duration: 9s
  warmup: 1s
  platform:
    kubernetes:
      namespace: ${NAMESPACE}
      allowNamespaces: [${NAMESPACE}]
      deploy: { replicas: 2, seedRows: ${SEED_ROWS}, pool: { size: 4 }, terminationGracePeriod: 1s }
      readyTimeout: 30s
  load: { model: open, rate: 20, connections: 4, mix: { get: 100, create: 0, update: 0, list: 0 } }
  faults:
    - { name: dr-drill, kind: disaster-recovery, at: 2s, disasterAt: 3s, duration: 6s }
  recovery: { window: 1s, sustain: 1s }
  checks:
    - { id: SC-007, name: Restore within RTO, metric: rto.restore, fault: dr-drill, target: "< 30m" }
    - { id: SC-017, name: Clients served again, metric: rto.client, fault: dr-drill, target: "< 30s" }
`;
    const saved = { KUBECONFIG: process.env['KUBECONFIG'], GAMEDAY_POSTGRES_PASSWORD: process.env['GAMEDAY_POSTGRES_PASSWORD'] };
    process.env['KUBECONFIG'] = world.kube.kubeconfigPath;
    process.env['GAMEDAY_POSTGRES_PASSWORD'] = 'gameday';
    const out = await mkdtemp(join(tmpdir(), 'gameday-kube-dr-'));
    try {
      const parsed = planFromText(scenario, { env: {} });
      if (!parsed.plan) throw new Error(JSON.stringify(parsed.problems));
      following = true;
      const outcome = await runGameDay(parsed.plan, { outDir: out, signal: new AbortController().signal });
      following = false;
      await Promise.all([...pending]);
      if (outcome.error) throw outcome.error;
      expect(outcome.status).toBe('completed');
      const analysis = outcome.analysis!;
      const dr = analysis.events.filter((e) => e.type.startsWith('dr.'));
      expect(dr.map((e) => e.type)).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.disaster', 'dr.restore-started', 'dr.restore-completed', 'dr.service-healthy']);
      const rtoMs = dr[5]?.detail?.['rtoMs'] as number;
      const [restore, client] = analysis.verdict.checks;
      expect(restore).toMatchObject({ id: 'SC-007', passed: true, actual: rtoMs });
      // The clients lost the service with the database and had it back after the restore.
      expect(client?.actual).not.toBeNull();
      // Not before the Restore completed (two simulated steps after the disaster, at the earliest).
      expect(client?.actual).toBeGreaterThanOrEqual(2 * STEP_MS);
      expect(analysis.events.filter((e) => e.type === 'replica.not-ready').length).toBeGreaterThanOrEqual(1);
    } finally {
      following = false;
      await Promise.all([...pending]);
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(out, { recursive: true, force: true });
    }
    expect([...world.kube.list('backups', 'velero'), ...world.kube.list('restores', 'velero')]).toEqual([]);
    expect(world.kube.list('statefulsets', NAMESPACE)).toEqual([]);
  }, 90_000);
});
