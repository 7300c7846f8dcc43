// The fake API server seen through the real @kubernetes/client-node: CRUD, list with selectors,
// watch (ADDED/MODIFIED/DELETED, BOOKMARK, 410 Expired, a dropped watch), Status objects, strict CRD
// validation against the Chaos Mesh schemas, finalizers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { startFakeKube, type FakeKube } from './fake/index.js';

let kube: FakeKube;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  kube = await startFakeKube({ namespaces: ['default', 'staging'], bookmarkIntervalMs: 50 });
  core = kube.kubeConfig.makeApiClient(CoreV1Api);
  apps = kube.kubeConfig.makeApiClient(AppsV1Api);
  custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await kube?.close();
});

/** The Status body of a failed call (ApiException.body is the raw JSON text). */
async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string; details?: { causes?: { field?: string; reason: string }[]; name?: string; kind?: string; group?: string } }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const body = JSON.parse(String(e.body)) as { kind: string; code: number; reason: string; message: string };
      expect(body.kind).toBe('Status');
      expect(body.code).toBe(e.code);
      return body;
    }
    throw e;
  }
  throw new Error('the call succeeded');
}

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

const podKill = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'chaos-mesh.org/v1alpha1',
  kind: 'PodChaos',
  metadata: { name, labels: { 'gameday.dev/run-id': 'r1' } },
  spec: { action: 'pod-kill', mode: 'one', duration: '30s', selector: { namespaces: ['staging'], labelSelectors: { app: 'none' } }, ...extra },
});

describe('fake kube API through @kubernetes/client-node', () => {
  it('creates, reads, lists with label and field selectors, and answers 404/409 with Status objects', async () => {
    const created = await core.createNamespacedPod({ namespace: 'staging', body: pod('p1', { app: 'a', tier: 'web' }) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    await core.createNamespacedPod({ namespace: 'staging', body: pod('p2', { app: 'b' }) });
    const byLabel = await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'app in (a,c),tier' });
    expect(byLabel.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    const byField = await core.listNamespacedPod({ namespace: 'staging', fieldSelector: 'metadata.name!=p1' });
    expect(byField.items.map((p) => p.metadata?.name)).toEqual(['p2']);
    expect(Number(byField.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));

    const missing = await statusOf(core.readNamespacedPod({ namespace: 'staging', name: 'nope' }));
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
    const dup = await statusOf(core.createNamespacedPod({ namespace: 'staging', body: pod('p1') }));
    expect(dup).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'pods "p1" already exists' });
    const stale = { ...created, metadata: { ...created.metadata, labels: { app: 'z' } } };
    await core.replaceNamespacedPod({ namespace: 'staging', name: 'p1', body: { ...stale, metadata: { ...stale.metadata, resourceVersion: created.metadata?.resourceVersion } } }).catch(() => undefined);
    const conflict = await statusOf(core.replaceNamespacedPod({ namespace: 'staging', name: 'p1', body: stale }));
    expect(conflict).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(conflict.message).toContain('the object has been modified');
    const wrong = new KubeConfig();
    wrong.loadFromString(kube.kubeConfig.exportConfig().replace(kube.token, 'not-the-token'));
    // client-node drops the body of a 401 (its generated code throws "Unauthorized" without it).
    const unauthorized = await wrong.makeApiClient(CoreV1Api).listNamespace().then(() => undefined, (e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(ApiException);
    expect((unauthorized as ApiException<unknown>).code).toBe(401);
    const noNs = await statusOf(core.createNamespacedPod({ namespace: 'ghost', body: pod('x') }));
    expect(noNs).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
  });

  it('pages lists with limit/continue (410 for a continue token older than the history) and refuses immutable changes', async () => {
    for (const n of ['pg-a', 'pg-b', 'pg-c']) await core.createNamespacedConfigMap({ namespace: 'staging', body: { metadata: { name: n, labels: { page: 'yes' } } } });
    const first = await core.listNamespacedConfigMap({ namespace: 'staging', labelSelector: 'page=yes', limit: 2 });
    expect(first.items.map((c) => c.metadata?.name)).toEqual(['pg-a', 'pg-b']);
    expect(first.metadata?._continue).toBeTruthy();
    const second = await core.listNamespacedConfigMap({ namespace: 'staging', labelSelector: 'page=yes', limit: 2, _continue: first.metadata!._continue! });
    expect(second.items.map((c) => c.metadata?.name)).toEqual(['pg-c']);
    expect(second.metadata?._continue).toBeUndefined();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    await core.createNamespacedConfigMap({ namespace: 'staging', body: { metadata: { name: 'pg-d' } } });
    kube.faults.compact();
    const expired = await statusOf(core.listNamespacedConfigMap({ namespace: 'staging', labelSelector: 'page=yes', limit: 2, _continue: first.metadata!._continue! }));
    expect(expired).toMatchObject({ code: 410, reason: 'Expired' });

    const body = { metadata: { name: 'imm' }, spec: { replicas: 1, selector: { matchLabels: { app: 'imm' } }, template: { metadata: { labels: { app: 'imm', v: '1' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
    await apps.createNamespacedDeployment({ namespace: 'staging', body });
    const changed = await statusOf(
      apps.patchNamespacedDeployment({ namespace: 'staging', name: 'imm', body: [{ op: 'replace', path: '/spec/selector', value: { matchLabels: { app: 'imm', v: '1' } } }] }),
    );
    expect(changed).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(changed.details?.causes).toEqual([expect.objectContaining({ field: 'spec.selector' })]);
    expect(changed.message).toContain('field is immutable');
    // An (unconditional) replace that leaves defaulted fields out keeps them: the apiserver defaults the new object too.
    const replaced = await apps.replaceNamespacedDeployment({ namespace: 'staging', name: 'imm', body });
    expect(replaced.spec?.strategy?.type).toBe('RollingUpdate');
    await apps.deleteNamespacedDeployment({ namespace: 'staging', name: 'imm' });
  });

  it('answers 429 with Retry-After when told to, once', async () => {
    kube.faults.failNext({ verb: 'list', resource: 'services' }, { code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.', details: { retryAfterSeconds: 1 } });
    const err = await core.listNamespacedService({ namespace: 'staging' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(429);
    expect((err as ApiException<string>).headers['retry-after']).toBe('1');
    expect((await core.listNamespacedService({ namespace: 'staging' })).items).toBeDefined();
  });

  it('is reachable as from a pod: in-cluster service account files and environment', async () => {
    const saved = { host: process.env['KUBERNETES_SERVICE_HOST'], port: process.env['KUBERNETES_SERVICE_PORT'] };
    Object.assign(process.env, kube.inCluster.env);
    const kc = new KubeConfig();
    try {
      kc.loadFromCluster(kube.inCluster.pathPrefix);
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const names = (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).toEqual(['default', 'staging']);
  });

  it('answers 403 with the verb, resource, group and namespace like RBAC', async () => {
    const undo = kube.faults.forbid({ verb: 'create', resource: 'podchaos' });
    try {
      const s = await statusOf(custom.createNamespacedCustomObject({ group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'podchaos', body: podKill('k403') }));
      expect(s).toMatchObject({ code: 403, reason: 'Forbidden' });
      expect(s.message).toBe(
        'podchaos.chaos-mesh.org is forbidden: User "system:serviceaccount:gameday:gameday" cannot create resource "podchaos" in API group "chaos-mesh.org" in the namespace "staging"',
      );
    } finally {
      undo();
    }
  });

  it('validates custom objects strictly against the real CRD schema', async () => {
    const args = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'podchaos' };
    const unknown = await statusOf(custom.createNamespacedCustomObject({ ...args, body: podKill('bad1', { durationn: '30s' }) }));
    expect(unknown).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(unknown.message).toContain('strict decoding error: unknown field "spec.durationn"');
    const badEnum = await statusOf(custom.createNamespacedCustomObject({ ...args, body: podKill('bad2', { mode: 'some' }) }));
    expect(badEnum).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(badEnum.details?.causes).toEqual([expect.objectContaining({ field: 'spec.mode', reason: 'FieldValueNotSupported' })]);
    expect(badEnum.message).toMatch(/^PodChaos\.chaos-mesh\.org "bad2" is invalid: spec\.mode: Unsupported value: "some": supported values: "one", "all"/);
    const missing = podKill('bad3');
    delete (missing.spec as Record<string, unknown>).selector;
    const req = await statusOf(custom.createNamespacedCustomObject({ ...args, body: missing }));
    expect(req.details?.causes).toEqual([expect.objectContaining({ field: 'spec.selector', reason: 'FieldValueRequired' })]);
    const ok = (await custom.createNamespacedCustomObject({ ...args, body: podKill('good') })) as { metadata: { name: string } };
    expect(ok.metadata.name).toBe('good');
    await custom.deleteNamespacedCustomObject({ ...args, name: 'good' });
  });

  it('answers 404 "the server could not find the requested resource" when the CRD group is absent', async () => {
    const other = await startFakeKube({ chaosMesh: false, tls: false });
    try {
      const c = other.kubeConfig.makeApiClient(CustomObjectsApi);
      const s = await statusOf(c.listNamespacedCustomObject({ group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'default', plural: 'podchaos' }));
      expect(s).toMatchObject({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Discovery agrees: no chaos-mesh.org group, no CRD objects.
      const groups = (await other.kubectl(['api-versions'])).stdout.split('\n');
      expect(groups).toContain('apps/v1');
      expect(groups.some((g) => g.startsWith('chaos-mesh.org'))).toBe(false);
      expect(other.list('customresourcedefinitions')).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'staging', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] }, data: { a: '1' } } });
    const del = await core.deleteNamespacedConfigMap({ namespace: 'staging', name: 'held' });
    expect(del).toBeTruthy();
    const still = await core.readNamespacedConfigMap({ namespace: 'staging', name: 'held' });
    expect(still.metadata?.deletionTimestamp).toBeTruthy();
    const refused = await statusOf(
      core.patchNamespacedConfigMap({ namespace: 'staging', name: 'held', body: [{ op: 'add', path: '/metadata/finalizers/-', value: 'x/y' }] }),
    );
    expect(refused).toMatchObject({ code: 422 });
    await core.patchNamespacedConfigMap({ namespace: 'staging', name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    const gone = await statusOf(core.readNamespacedConfigMap({ namespace: 'staging', name: 'held' }));
    expect(gone.code).toBe(404);
  });

  it('watches: ADDED/MODIFIED/DELETED from a resourceVersion, BOOKMARK, 410 for an old one, and a dropped watch ends', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'staging' });
    const rv = list.metadata!.resourceVersion!;
    const seen: string[] = [];
    let bookmarks = 0;
    let done: unknown = 'open';
    const w = new Watch(kube.kubeConfig);
    const ctl = await w.watch(
      '/api/v1/namespaces/staging/configmaps',
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type, obj: { metadata?: { name?: string } }) => {
        if (type === 'BOOKMARK') bookmarks++;
        else seen.push(`${type} ${obj.metadata?.name}`);
      },
      (err) => (done = err),
    );
    await core.createNamespacedConfigMap({ namespace: 'staging', body: { metadata: { name: 'w1' } } });
    await core.patchNamespacedConfigMap({ namespace: 'staging', name: 'w1', body: [{ op: 'add', path: '/data', value: { k: 'v' } }] });
    await core.deleteNamespacedConfigMap({ namespace: 'staging', name: 'w1' });
    await waitUntil(() => seen.length >= 3 && bookmarks >= 1, 2000);
    expect(seen).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    expect(kube.server.openWatches('configmaps')).toBe(1);
    expect(kube.faults.dropWatches({ resource: 'configmaps' })).toBe(1);
    await waitUntil(() => done !== 'open', 2000);
    expect(done).toBeNull();
    ctl.abort();
    // A reset connection (not a clean end) reaches the client as an error.
    let reset: unknown = 'open';
    const ctl2 = await new Watch(kube.kubeConfig).watch('/api/v1/namespaces/staging/configmaps', {}, () => undefined, (err) => (reset = err));
    await waitUntil(() => kube.server.openWatches('configmaps') === 1, 2000);
    expect(kube.faults.dropWatches({}, 'destroy')).toBe(1);
    await waitUntil(() => reset !== 'open', 2000);
    expect(reset).toBeInstanceOf(Error);
    ctl2.abort();

    kube.faults.compact();
    const events: { type: string; code?: number; reason?: string }[] = [];
    let ended = false;
    await new Watch(kube.kubeConfig).watch(
      '/api/v1/namespaces/staging/configmaps',
      { resourceVersion: rv },
      (type, obj: { code?: number; reason?: string }) => events.push({ type, code: obj.code, reason: obj.reason }),
      () => (ended = true),
    );
    await waitUntil(() => ended, 2000);
    expect(events).toEqual([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });

  it('runs a Deployment: the ReplicaSet controller keeps its replicas and replaces a deleted pod', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'staging',
      body: {
        metadata: { name: 'api' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'task-api:1' }] } } },
      },
    });
    const ready = async (): Promise<V1Pod[]> =>
      (await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'app=api' })).items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    await waitUntil(async () => (await ready()).length === 2, 3000);
    const victim = (await ready())[0]!;
    await core.deleteNamespacedPod({ namespace: 'staging', name: victim.metadata!.name!, gracePeriodSeconds: 0 });
    await waitUntil(async () => (await ready()).length === 2 && !(await ready()).some((p) => p.metadata?.name === victim.metadata?.name), 3000);
    const d = await apps.readNamespacedDeployment({ namespace: 'staging', name: 'api' });
    await waitUntil(async () => (await apps.readNamespacedDeployment({ namespace: 'staging', name: 'api' })).status?.readyReplicas === 2, 2000);
    expect(d.metadata?.name).toBe('api');
    const pods = await ready();
    expect(pods[0]!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    expect(pods[0]!.status?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
  });
});

describe('fake controllers: StatefulSet, Job, Endpoints, deletion propagation', () => {
  const tpl = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8000 }] }] } });

  it('creates StatefulSet pods in order under stable names and recreates a deleted one', async () => {
    await apps.createNamespacedStatefulSet({ namespace: 'staging', body: { metadata: { name: 'postgres' }, spec: { replicas: 2, serviceName: 'postgres', selector: { matchLabels: { app: 'postgres' } }, template: tpl('postgres') } } });
    await waitUntil(async () => (await apps.readNamespacedStatefulSet({ namespace: 'staging', name: 'postgres' })).status?.readyReplicas === 2, 3000);
    const pods = (await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'app=postgres' })).items;
    expect(pods.map((p) => p.metadata?.name).sort()).toEqual(['postgres-0', 'postgres-1']);
    // OrderedReady: postgres-1 was created after postgres-0 was Ready.
    const p0 = pods.find((p) => p.metadata?.name === 'postgres-0')!;
    const p1 = pods.find((p) => p.metadata?.name === 'postgres-1')!;
    expect(Number(p1.metadata?.resourceVersion)).toBeGreaterThan(Number(p0.metadata?.resourceVersion));
    const uid = p0.metadata?.uid;
    await core.deleteNamespacedPod({ namespace: 'staging', name: 'postgres-0' });
    await waitUntil(async () => {
      const p = await core.readNamespacedPod({ namespace: 'staging', name: 'postgres-0' }).catch(() => undefined);
      return p !== undefined && p.metadata?.uid !== uid && p.status?.phase === 'Running';
    }, 3000);
  });

  it('runs a Job to Complete and orphans its pods by default on delete (batch/v1)', async () => {
    const batch = kube.kubeConfig.makeApiClient(BatchV1Api);
    const undo = kube.setPodBehaviour({ labels: { 'job-name': 'hold' } }, { exitCode: 0, runMs: 30 });
    try {
      await batch.createNamespacedJob({ namespace: 'staging', body: { metadata: { name: 'hold' }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'psql', image: 'postgres:17' }] } } } } });
      await waitUntil(async () => (await batch.readNamespacedJob({ namespace: 'staging', name: 'hold' })).status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') === true, 3000);
      const job = await batch.readNamespacedJob({ namespace: 'staging', name: 'hold' });
      expect(job.status?.succeeded).toBe(1);
      const pods = (await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'job-name=hold' })).items;
      expect(pods.map((p) => p.status?.phase)).toEqual(['Succeeded']);
      await batch.deleteNamespacedJob({ namespace: 'staging', name: 'hold' });
      await new Promise((r) => setTimeout(r, 50));
      const left = (await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'job-name=hold' })).items;
      expect(left).toHaveLength(1);
      expect(left[0]!.metadata?.ownerReferences).toBeUndefined();
      await core.deleteNamespacedPod({ namespace: 'staging', name: left[0]!.metadata!.name! });
    } finally {
      undo();
    }
  });

  it('keeps Endpoints of a Service with ready and not-ready addresses, named target ports resolved', async () => {
    await core.createNamespacedService({ namespace: 'staging', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web-ep' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } });
    const undo = kube.setPodBehaviour({ name: 'web-ep-2' }, { readinessFailing: true });
    try {
      for (const n of ['web-ep-1', 'web-ep-2']) await core.createNamespacedPod({ namespace: 'staging', body: { metadata: { name: n, labels: { app: 'web-ep' } }, spec: tpl('web-ep').spec } });
      await waitUntil(async () => {
        const ep = await core.readNamespacedEndpoints({ namespace: 'staging', name: 'web' }).catch(() => undefined);
        return ep?.subsets?.[0]?.addresses?.length === 1 && ep.subsets[0]?.notReadyAddresses?.length === 1;
      }, 3000);
      const ep = await core.readNamespacedEndpoints({ namespace: 'staging', name: 'web' });
      expect(ep.subsets?.[0]?.addresses?.[0]?.targetRef?.name).toBe('web-ep-1');
      expect(ep.subsets?.[0]?.ports).toEqual([{ name: 'http', port: 8000, protocol: 'TCP' }]);
      await core.deleteNamespacedService({ namespace: 'staging', name: 'web' });
      await waitUntil(async () => (await core.readNamespacedEndpoints({ namespace: 'staging', name: 'web' }).catch(() => undefined)) === undefined, 3000);
    } finally {
      undo();
    }
  });

  it('deletes in the foreground: the owner stays until its dependents are gone', async () => {
    // Pods that take 300 ms to stop keep the owners waiting long enough to be seen.
    const undo = kube.setPodBehaviour({ labels: { app: 'fg' } }, { timing: { terminateMs: 300 } });
    await apps.createNamespacedDeployment({ namespace: 'staging', body: { metadata: { name: 'fg' }, spec: { replicas: 2, selector: { matchLabels: { app: 'fg' } }, template: tpl('fg') } } });
    await waitUntil(async () => (await apps.readNamespacedDeployment({ namespace: 'staging', name: 'fg' })).status?.readyReplicas === 2, 3000);
    await apps.deleteNamespacedDeployment({ namespace: 'staging', name: 'fg', propagationPolicy: 'Foreground' });
    const during = await apps.readNamespacedDeployment({ namespace: 'staging', name: 'fg' });
    expect(during.metadata?.finalizers).toContain('foregroundDeletion');
    expect(during.metadata?.deletionTimestamp).toBeTruthy();
    undo();
    await waitUntil(async () => (await apps.readNamespacedDeployment({ namespace: 'staging', name: 'fg' }).catch(() => undefined)) === undefined, 3000);
    expect((await core.listNamespacedPod({ namespace: 'staging', labelSelector: 'app=fg' })).items).toHaveLength(0);
    expect((await apps.listNamespacedReplicaSet({ namespace: 'staging', labelSelector: 'app=fg' })).items).toHaveLength(0);
  });
});

async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!(await pred())) throw new Error(`condition not reached within ${ms} ms`);
}
