import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { KubernetesPlatform } from '../../harness/platform/kubernetes/index.js';
import { deployPlan, NAMESPACE, startKubeWorld, type KubeWorld } from './platform-fixture.js';

let world: KubeWorld;

beforeAll(async () => {
  world = await startKubeWorld({ timing: { scheduleMs: 20, createMs: 50, readyMs: 50, terminateMs: 20 } });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('Kubernetes platform: deploy, port-forward, teardown', () => {
  it('applies the objects in order, waits for ready pods, serves through the port-forward, and deletes everything it made', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const platform = new KubernetesPlatform(deployPlan(), { journal }, clock, { env: world.env, runId: 'deploy1' });
    const writesBefore = world.kube.writes().length;
    const deployment = await platform.deploy(new AbortController().signal);
    try {
      const creates = world.kube.writes().slice(writesBefore).filter((w) => w.info?.verb === 'create' && w.info.namespace === NAMESPACE);
      expect(creates.map((w) => `${w.info?.resource}/${(w.body as { metadata?: { name?: string } }).metadata?.name}`)).toEqual([
        'secrets/postgres',
        'services/postgres',
        'statefulsets/postgres',
        'jobs/task-api-seed',
        'services/task-api',
        'deployments/task-api',
      ]);
      for (const w of creates) expect((w.body as { metadata: { labels: Record<string, string> } }).metadata.labels['gameday.dev/run']).toBe('deploy1');
      // Context and namespace are journalled before the first object is applied.
      const events = journal.events();
      const ctxAt = events.findIndex((e) => e.type === 'kube.context');
      const firstApply = events.findIndex((e) => e.type === 'kube.applied');
      expect(ctxAt).toBeGreaterThanOrEqual(0);
      expect(ctxAt).toBeLessThan(firstApply);
      expect(events[ctxAt]?.detail).toMatchObject({ context: 'fake', namespace: NAMESPACE, run: 'deploy1' });

      expect(deployment.replicas().filter((r) => r.ready)).toHaveLength(3);
      expect(deployment.serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Real requests through the API server's port-forward, spread over the ready pods.
      const served = new Set<string>();
      for (let i = 0; i < 9; i++) {
        const res = await request(`${deployment.serviceUrl}/tasks/${1 + i}`, { reset: true });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
        served.add(String(res.headers['x-replica'] ?? ''));
      }
      expect(journal.events().some((e) => e.type === 'kube.traffic' && e.detail?.['via'] === 'port-forward')).toBe(true);
      // Each pod went through its phases, recorded in the journal.
      const phases = journal.events().filter((e) => e.type === 'replica.phase').map((e) => `${e.detail?.['phase']}`);
      expect(phases).toEqual(expect.arrayContaining(['Pending', 'ContainerCreating', 'Running', 'Ready']));
    } finally {
      await platform.teardown();
    }
    for (const kind of ['deployments', 'services', 'statefulsets', 'jobs', 'secrets', 'pods', 'replicasets']) {
      expect(world.kube.list(kind, NAMESPACE).filter((o) => o.metadata.labels?.['gameday.dev/run'] === 'deploy1').map((o) => o.metadata.name)).toEqual([]);
    }
    expect(journal.events().find((e) => e.type === 'kube.deleted')?.detail).toMatchObject({ leftovers: 0 });
    if (process.env.DEBUG_KUBE) for (const e of journal.events()) console.log(Math.round(e.atMs), e.type, e.target ?? "", JSON.stringify(e.detail ?? {}));
  }, 60_000);
});
