import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { drillVeleroObjects } from '../../harness/kube/velero.js';
import { VeleroRunner, type PhaseSeen } from '../../harness/kube/velero-run.js';
import { startFakeKube, type FakeKube } from '../kube/fake/index.js';

/**
 * The drill's cluster steps against the fake API server serving the upstream Velero CRDs (strictly
 * validated), with a simulated Velero controller: a Backup goes New → InProgress → Completed, a
 * Restore InProgress → Completed and creates the mapped namespace; a name set to fail ends Failed.
 */
describe('Velero Backup, namespace deletion and Restore against the API server', () => {
  let kube: FakeKube;
  const clock = new SystemClock();
  const STEP_MS = 150;
  const failing = new Set<string>();

  beforeAll(async () => {
    kube = await startFakeKube({ crdDir: new URL('../../../shared/velero-crds', import.meta.url).pathname, chaosMesh: false, namespaces: ['default', 'velero', 'staging', { name: 'shop', labels: { environment: 'production' } }] });
    const advance = (plural: string, name: string, phases: string[], done?: () => void): void => {
      phases.forEach((phase, i) =>
        setTimeout(() => {
          const r = kube.store.resource('velero.io', plural);
          const cur = kube.store.get(r, 'velero', name);
          if (!cur) return;
          kube.store.update(r, { ...cur, status: { phase, ...(phase === 'Failed' ? { failureReason: 'hook postgres-consistency failed: pg_dump exited 1' } : {}) } }, { subresource: 'status', internal: true });
          if (i === phases.length - 1) done?.();
        }, STEP_MS * (i + 1)),
      );
    };
    kube.store.subscribe((e) => {
      if (e.type !== 'ADDED' || e.resource.group !== 'velero.io') return;
      const name = e.object.metadata.name;
      if (failing.has(name)) return advance(e.resource.plural, name, ['InProgress', 'Failed']);
      if (e.resource.plural === 'backups') return advance('backups', name, ['InProgress', 'Completed']);
      const mapping = (e.object.spec as { namespaceMapping: Record<string, string> }).namespaceMapping;
      advance('restores', name, ['InProgress', 'Completed'], () => {
        for (const target of Object.values(mapping)) kube.create('namespaces', { metadata: { name: target } });
      });
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('backup, the namespace deleted, restore into the mapped namespace: every phase seen, the restore timed', async () => {
    const runner = new VeleroRunner(kube.kubeConfig);
    const { backup, restore } = drillVeleroObjects({ name: 'dr' }, { runId: 'r1', namespace: 'staging', restoreNamespace: 'staging-restore-test' });
    const phases: PhaseSeen[] = [];
    const opts = { clock, timeoutMs: 10_000, onPhase: (p: PhaseSeen) => phases.push(p) };
    expect((await runner.run(backup, opts)).map((p) => p.phase)).toEqual(['New', 'InProgress', 'Completed']);
    expect(kube.get('backups', 'velero', backup.metadata.name)?.spec).toMatchObject({ includedNamespaces: ['staging'] });
    await runner.deleteNamespace('staging', opts);
    expect(kube.get('namespaces', undefined, 'staging')).toBeUndefined();
    const t0 = clock.now();
    const seen = await runner.run(restore, opts);
    expect(seen.map((p) => p.phase)).toEqual(['New', 'InProgress', 'Completed']);
    // Completed two simulated steps after creation: the measured restore time is the controller's, within a poll.
    expect((seen.at(-1) as PhaseSeen).atMs - t0).toBeGreaterThanOrEqual(2 * STEP_MS - 10);
    expect((seen.at(-1) as PhaseSeen).atMs - t0).toBeLessThan(2 * STEP_MS + 1000);
    expect(kube.get('namespaces', undefined, 'staging-restore-test')).toBeDefined();
    expect(phases).toHaveLength(6);
  });

  it('refuses production (by name or label) before deleting anything; a failed Backup names its reason; Velero absent is said so', async () => {
    const runner = new VeleroRunner(kube.kubeConfig);
    const opts = { clock, timeoutMs: 5000 };
    const before = kube.writes().length;
    await expect(runner.deleteNamespace('production', opts)).rejects.toThrow('refusing to delete namespace "production": its name says production');
    await expect(runner.deleteNamespace('shop', opts)).rejects.toThrow('refusing to delete namespace "shop": it is labelled environment=production');
    expect(kube.writes().length).toBe(before);
    const { backup } = drillVeleroObjects({ name: 'broken' }, { runId: 'r2', namespace: 'default' });
    failing.add(backup.metadata.name);
    await expect(runner.run(backup, opts)).rejects.toThrow(`Velero Backup velero/${backup.metadata.name} ended Failed: hook postgres-consistency failed: pg_dump exited 1`);

    const bare = await startFakeKube({ chaosMesh: false, namespaces: ['velero'] });
    try {
      const { backup: b } = drillVeleroObjects({ name: 'dr' }, { runId: 'r3', namespace: 'default' });
      await expect(new VeleroRunner(bare.kubeConfig).run(b, opts)).rejects.toThrow(/the API server does not serve backups\.velero\.io\/v1/);
    } finally {
      await bare.close();
    }
  });
});
