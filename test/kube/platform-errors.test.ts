import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../harness/platform/kubernetes/client.js';
import { connect } from '../../harness/platform/kubernetes/config.js';
import { KubeApiError } from '../../harness/platform/kubernetes/errors.js';
import { KubernetesPlatform } from '../../harness/platform/kubernetes/index.js';
import { PodTracker } from '../../harness/platform/kubernetes/pods.js';
import type { FaultContext } from '../../harness/faults/types.js';
import { startFakeKube, type FakeKube } from './fake/index.js';
import { deployPlan, NAMESPACE } from './platform-fixture.js';

// No processes here: pods are the fake kubelet's alone (Ready after their delays), so these run fast.
let kube: FakeKube;
let env: NodeJS.ProcessEnv;
const clock = new SystemClock();
const undo: (() => void)[] = [];

beforeAll(async () => {
  kube = await startFakeKube({
    namespaces: ['default', { name: NAMESPACE, labels: { environment: 'staging' } }, { name: 'shop', labels: { environment: 'production' } }],
    timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 },
  });
  env = { KUBECONFIG: kube.kubeconfigPath, HOME: '/nonexistent' };
});
afterEach(() => {
  for (const u of undo.splice(0)) u();
});
afterAll(async () => {
  await kube?.close();
});

/** Every object a run labelled, still in the store (must be none after teardown). */
function leftOf(runId: string, namespace = NAMESPACE): string[] {
  const kinds = ['secrets', 'services', 'statefulsets', 'jobs', 'deployments', 'replicasets', 'pods', 'podchaos', 'networkchaos'];
  return kinds.flatMap((k) => kube.list(k, namespace).filter((o) => o.metadata.labels?.['gameday.dev/run'] === runId).map((o) => `${k}/${o.metadata.name}`));
}

async function deployExpectingError(runId: string, plan = deployPlan({ readyTimeoutMs: 1_000 }), namespace = NAMESPACE): Promise<KubeApiError | Error> {
  const journal = new Journal(clock);
  const platform = new KubernetesPlatform(plan, { journal }, clock, { env, runId });
  let error: Error | undefined;
  try {
    await platform.deploy(new AbortController().signal);
  } catch (err) {
    error = err as Error;
  } finally {
    await platform.teardown();
  }
  expect(error).toBeDefined();
  expect(leftOf(runId, namespace)).toEqual([]);
  return error as Error;
}

describe('API errors, said precisely, nothing left behind', () => {
  it('403: names the verb, the resource and its group', async () => {
    undo.push(kube.faults.forbid({ verb: 'create', group: 'apps', resource: 'statefulsets' }));
    const err = await deployExpectingError('forbid1');
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.message).toContain('forbidden: gameday may not create statefulsets.apps in namespace gameday-test');
    expect(err.message).toContain('verb "create" on resource "statefulsets" in apiGroup "apps"');
    expect((err as KubeApiError).exitCode).toBe(3);
  });

  it('404 on a chaos kind: is Chaos Mesh installed?', async () => {
    const bare = await startFakeKube({ namespaces: [NAMESPACE], chaosMesh: false });
    try {
      const client = new KubeClient(bare.kubeConfig, NAMESPACE);
      const chaos = { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata: { name: 'k' }, spec: { action: 'pod-kill', mode: 'one', selector: { namespaces: [NAMESPACE] } } };
      const err = await client.create(chaos).then(() => undefined, (e: unknown) => e as KubeApiError);
      expect(err?.message).toMatch(/does not serve PodChaos \(podchaos\.chaos-mesh\.org\/v1alpha1\): is Chaos Mesh installed\?/);
      expect(err?.notFound).toBe('type');
    } finally {
      await bare.close();
    }
  });

  it('422 from the server\'s schema validation names the field; the scenario is at fault (exit 2)', async () => {
    const client = new KubeClient(kube.kubeConfig, NAMESPACE);
    const chaos = { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata: { name: 'bad-mode' }, spec: { action: 'pod-kill', mode: 'sometimes', selector: { namespaces: [NAMESPACE] } } };
    const err = await client.create(chaos).then(() => undefined, (e: unknown) => e as KubeApiError);
    expect(err?.message).toMatch(/^the API server rejected PodChaos bad-mode \(422 Invalid\): spec\.mode: /);
    expect(err?.exitCode).toBe(2);
    expect(kube.list('podchaos', NAMESPACE)).toEqual([]);
  });

  it('409: an object of an earlier run in the way is named, with the cleanup command', async () => {
    kube.create('services', { metadata: { name: 'postgres', namespace: NAMESPACE, labels: { 'gameday.dev/run': 'older' } }, spec: { ports: [{ port: 5432 }] } });
    try {
      const err = await deployExpectingError('conflict1');
      expect(err.message).toContain('Service postgres already exists in namespace gameday-test (left by an earlier run? see gameday cleanup --all-runs --namespace gameday-test)');
    } finally {
      await new KubeClient(kube.kubeConfig, NAMESPACE).delete({ kind: 'Service', group: '', version: 'v1', plural: 'services' }, 'postgres');
    }
  });

  it('a namespace labelled production is refused before anything is applied (exit 2)', async () => {
    const writes = kube.writes().length;
    const err = await deployExpectingError('prod1', deployPlan({ namespace: 'shop', guard: { allowNamespaces: ['shop'], allowProduction: false, allowModeAll: false } }));
    expect(err.message).toContain('namespace "shop" is labelled environment=production');
    expect((err as KubeApiError).exitCode).toBe(2);
    expect(kube.writes().length).toBe(writes);
  });
});

describe('readiness failures name the pod and its condition', () => {
  it('ImagePullBackOff, CrashLoopBackOff, Unschedulable, a failing readiness probe (one namespace each, side by side)', async () => {
    const cases: [string, Parameters<FakeKube['setPodBehaviour']>[1], RegExp][] = [
      ['pull', { imagePullBackOff: true }, /pod task-api-\S+: container task-api is in (ImagePullBackOff|ErrImagePull)/],
      ['crash', { crashLoopBackOff: true }, /pod task-api-\S+: container task-api is in CrashLoopBackOff/],
      ['unsched', { unschedulable: true }, /pod task-api-\S+ is Unschedulable: /],
      ['probe', { readinessFailing: true }, /pod task-api-\S+: readiness probe failing on container task-api/],
    ];
    await Promise.all(
      cases.map(async ([name, behaviour, message]) => {
        const namespace = `gameday-${name}`;
        kube.create('namespaces', { metadata: { name: namespace } });
        undo.push(kube.setPodBehaviour({ namespace, labels: { app: 'task-api' } }, behaviour));
        const plan = deployPlan({ namespace, readyTimeoutMs: 1_000, guard: { allowNamespaces: [namespace], allowProduction: false, allowModeAll: false } });
        const err = await deployExpectingError(`ready${name}`, plan, namespace);
        expect(err.message).toMatch(/^Deployment task-api: 0 of 3 pods Ready after 1s: /);
        expect(err.message).toMatch(message);
      }),
    );
  });
});

describe('the pod watch survives drops and 410 Gone', () => {
  it('resumes after a drop, relists after 410 and reports a pod deleted meanwhile as gone', async () => {
    const journal = new Journal(clock);
    const client = new KubeClient(kube.kubeConfig, NAMESPACE);
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'watched' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    await client.create(pod('w-1'));
    const tracker = new PodTracker(client, 'app=watched', journal, clock);
    await tracker.start();
    try {
      const ready = (n: number) => tracker.waitReady(n, 5_000, new AbortController().signal, 'watched');
      await ready(1);
      // A clean drop (as an apiserver's timeout): the watch resumes from its resourceVersion.
      expect(kube.faults.dropWatches({ resource: 'pods' }, 'end')).toBeGreaterThan(0);
      await client.create(pod('w-2'));
      await ready(2);
      // A reset connection whose resume is held while pods change and history is compacted: the
      // resume answers 410 Gone and the watch relists.
      undo.push(kube.faults.delay({ verb: 'watch', resource: 'pods' }, 600, 1));
      kube.faults.dropWatches({ resource: 'pods' }, 'destroy');
      await client.delete({ kind: 'Pod', group: '', version: 'v1', plural: 'pods' }, 'w-1', { gracePeriodSeconds: 0 });
      await client.create(pod('w-3'));
      kube.faults.compact();
      const deadline = Date.now() + 5_000;
      const settled = (): boolean => tracker.statuses().map((s) => s.name).sort().join() === 'w-2,w-3' && tracker.isReady('w-3') && kube.server.openWatches('pods') === 1;
      while (Date.now() < deadline && !settled()) await new Promise((r) => setTimeout(r, 50));
      expect(tracker.statuses().map((s) => s.name).sort()).toEqual(['w-2', 'w-3']);
      const types = journal.events().map((e) => e.type);
      expect(types).toContain('watch.dropped');
      expect(types).toContain('watch.gone');
      expect(types).toContain('watch.relisted');
      expect(journal.events().some((e) => e.type === 'replica.exited' && e.target === 'w-1')).toBe(true);
      expect(kube.server.openWatches('pods')).toBe(1);
    } finally {
      tracker.stop();
      for (const n of ['w-2', 'w-3']) await client.delete({ kind: 'Pod', group: '', version: 'v1', plural: 'pods' }, n, { gracePeriodSeconds: 0 });
    }
  });
});

describe('an existing workload', () => {
  it('deploys nothing, finds the pods through the named Deployment, injects a NetworkChaos on them and deletes it, verified', async () => {
    const labels = { app: 'shop-api', tier: 'web' };
    kube.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop-api', namespace: NAMESPACE },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'api', image: 'shop:1', ports: [{ containerPort: 8080, name: 'http' }] }] } } },
    });
    kube.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop-api', namespace: NAMESPACE }, spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] } });
    const journal = new Journal(clock);
    const plan = deployPlan({ workload: { kind: 'existing', deployment: 'shop-api', databaseSelector: { app: 'postgres' } }, access: { kind: 'port-forward', service: 'shop-api', port: 80 } });
    const platform = new KubernetesPlatform(plan, { journal }, clock, { env, runId: 'existing1' });
    const writes = kube.writes().length;
    try {
      const deployment = await platform.deploy(new AbortController().signal);
      expect(kube.writes().length).toBe(writes);
      expect(deployment.replicas().map((r) => r.ready)).toEqual([true, true]);
      const fault = { kind: 'network-delay', name: 'slow-db', atMs: 0, durationMs: 500, selector: 'database', direction: 'to', delay: { latencyMs: 100, jitterMs: 10, correlation: 0 } } as const;
      const injector = platform.injectorFor(fault);
      expect(injector).toBeDefined();
      const ctx = { platform, deployment, journal, clock, random: Math.random } as unknown as FaultContext;
      const records = await injector!.apply(ctx);
      const chaos = kube.list('networkchaos', NAMESPACE);
      expect(chaos.map((c) => c.metadata.name)).toEqual(['slow-db-existing1']);
      expect((chaos[0]?.spec as { selector: { labelSelectors: Record<string, string> } }).selector.labelSelectors).toEqual(labels);
      expect(records.length).toBe(2);
      await injector!.recover(records, ctx);
      expect(kube.list('networkchaos', NAMESPACE)).toEqual([]);
      expect(journal.events().filter((e) => e.source === 'fault').map((e) => e.type)).toEqual(['chaos.created', 'chaos.injected', 'chaos.recovered', 'chaos.deleted']);
      // pool-exhaustion lock: a psql Job, running while the fault lasts, deleted with its pod at recovery.
      undo.push(kube.setPodBehaviour({ labels: { 'job-name': 'lock-tasks-existing1' } }, { backed: false, runMs: 60_000, exitCode: 0 }));
      const lock = { kind: 'pool-exhaustion', name: 'lock-tasks', atMs: 0, durationMs: 1_000, mode: 'lock', replicas: { mode: 'one' } } as const;
      const job = platform.injectorFor(lock);
      const jobRecords = await job!.apply(ctx);
      expect(jobRecords.map((r) => r.detail?.['phase'])).toEqual(['Running']);
      expect(kube.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.['job-name'] === 'lock-tasks-existing1')).toHaveLength(1);
      await job!.recover(jobRecords, ctx);
      expect(kube.get('jobs', NAMESPACE, 'lock-tasks-existing1')).toBeUndefined();
      expect(kube.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.['job-name'] === 'lock-tasks-existing1')).toEqual([]);
    } finally {
      await platform.teardown();
    }
    // Its own objects are the user's: still there (only the run's chaos object was deleted).
    expect(kube.get('deployments', NAMESPACE, 'shop-api')).toBeDefined();
    expect(kube.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.['app'] === 'shop-api')).toHaveLength(2);
  });
});

describe('configuration the way kubectl reads it', () => {
  it('KUBECONFIG (several files, the first one\'s current context), --context, the in-cluster service account, and no configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-kubeconfig-'));
    try {
      const file = (name: string, server: string, namespace?: string, current = true): string => {
        const path = join(dir, name);
        const ctx = { cluster: name, user: name, ...(namespace ? { namespace } : {}) };
        writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name, cluster: { server } }], users: [{ name, user: { token: 't' } }], contexts: [{ name, context: ctx }], ...(current ? { 'current-context': name } : {}) }));
        return path;
      };
      const a = file('staging', 'https://staging.example:6443', 'team-a');
      const b = file('other', 'https://other.example:6443', undefined, false);
      const merged = connect({ env: { KUBECONFIG: `${a}:${b}`, HOME: dir } });
      expect([merged.context, merged.server, merged.namespace, merged.source]).toEqual(['staging', 'https://staging.example:6443', 'team-a', 'KUBECONFIG']);
      const picked = connect({ env: { KUBECONFIG: `${a}:${b}`, HOME: dir }, context: 'other', namespace: 'gameday' });
      expect([picked.context, picked.server, picked.namespace]).toEqual(['other', 'https://other.example:6443', 'gameday']);
      expect(() => connect({ env: { KUBECONFIG: a, HOME: dir }, context: 'prod' })).toThrow('context "prod" is not in the kubeconfig (contexts: staging; pick one with --context)'.slice(0, 45));
      const inCluster = connect({ env: { HOME: dir, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' } });
      expect([inCluster.source, inCluster.server]).toEqual(['in-cluster service account', 'https://10.0.0.1:443']);
      expect(() => connect({ env: { HOME: dir } })).toThrow('no Kubernetes configuration: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account');
      expect(() => connect({ env: { HOME: dir, KUBECONFIG: join(dir, 'missing') } })).toThrow(`KUBECONFIG names ${join(dir, 'missing')}, which does not exist`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
