// The fake's simulated kubelet and controllers: pod phases with the delays the test sets (timed from
// a watch), misbehaving pods, pods backed by real processes, port-forward through client-node's
// PortForward carrying real HTTP, and the Chaos Mesh controller's pod-kill.
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PortForward, Watch, type V1Pod } from '@kubernetes/client-node';
import { startFakeKube, type FakeKube, type PodBacking } from './fake/index.js';

let kube: FakeKube;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
/** Backing HTTP servers by pod name. */
const backends = new Map<string, Server>();

/** A tiny HTTP server per pod standing in for its container: answers with the pod's name. */
async function backing(pod: { metadata: { name: string; labels?: Record<string, string> } }): Promise<PodBacking> {
  if (pod.metadata.labels?.['case'] === 'start') throw new Error('failed to create containerd task: exec: "task-api": executable file not found in $PATH');
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 200, { 'Content-Type': 'text/plain' });
    res.end(`hello from ${pod.metadata.name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backends.set(pod.metadata.name, server);
  return {
    ports: { 8080: (server.address() as AddressInfo).port },
    stop: async () => {
      backends.delete(pod.metadata.name);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

beforeAll(async () => {
  kube = await startFakeKube({ namespaces: ['default', 'staging'], backing });
  core = kube.kubeConfig.makeApiClient(CoreV1Api);
  apps = kube.kubeConfig.makeApiClient(AppsV1Api);
  custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await kube?.close();
  expect(backends.size).toBe(0);
});

function deployment(name: string, replicas: number, extraLabels: Record<string, string> = {}): Parameters<AppsV1Api['createNamespacedDeployment']>[0]['body'] {
  const labels = { app: name, ...extraLabels };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'api', image: 'task-api:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/health', port: 8080 } } }] },
      },
    },
  };
}

const isReady = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function readyPods(selector: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: 'staging', labelSelector: selector })).items.filter((p) => isReady(p) && p.metadata?.deletionTimestamp === undefined);
}

async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!(await pred())) throw new Error(`condition not reached within ${ms} ms`);
}

/** Records, per pod name, when the watch first saw each stage. */
function stageOf(p: V1Pod): string {
  if (isReady(p)) return 'Ready';
  const waiting = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  if (p.status?.phase === 'Running') return 'Running';
  if (waiting !== undefined) return waiting;
  return p.status?.phase ?? 'Unknown';
}

describe('fake kubelet and controllers', () => {
  it('takes a replacement pod through Pending → ContainerCreating → Running → Ready with the delays set (±100 ms)', async () => {
    const timing = { scheduleMs: 150, createMs: 400, readyMs: 250 };
    const undo = kube.setPodBehaviour({ labels: { app: 'timed' } }, { timing });
    const seen = new Map<string, Map<string, number>>();
    const ctl = await new Watch(kube.kubeConfig).watch(
      '/api/v1/namespaces/staging/pods',
      { labelSelector: 'app=timed' },
      (type, p: V1Pod) => {
        const name = p.metadata!.name!;
        if (type === 'ADDED' && !seen.has(name)) seen.set(name, new Map([['Created', Date.now()]]));
        const stages = seen.get(name);
        if (stages !== undefined && !stages.has(stageOf(p))) stages.set(stageOf(p), Date.now());
      },
      () => undefined,
    );
    try {
      await apps.createNamespacedDeployment({ namespace: 'staging', body: deployment('timed', 1) });
      await waitUntil(async () => (await readyPods('app=timed')).length === 1, 5000);
      const first = (await readyPods('app=timed'))[0]!.metadata!.name!;
      const killedAt = Date.now();
      await core.deleteNamespacedPod({ namespace: 'staging', name: first, gracePeriodSeconds: 0 });
      await waitUntil(async () => (await readyPods('app=timed')).some((p) => p.metadata?.name !== first), 5000);
      const second = [...seen.keys()].find((n) => n !== first)!;
      const stages = seen.get(second)!;
      expect([...stages.keys()]).toEqual(['Created', 'Pending', 'ContainerCreating', 'Running', 'Ready']);
      // The replacement is created right after the kill; its stages follow the delays from its creation.
      expect(stages.get('Created')! - killedAt).toBeLessThan(500);
      const at = (s: string): number => stages.get(s)! - stages.get('Created')!;
      expect(Math.abs(at('ContainerCreating') - timing.scheduleMs)).toBeLessThan(100);
      expect(Math.abs(at('Running') - (timing.scheduleMs + timing.createMs))).toBeLessThan(100);
      expect(Math.abs(at('Ready') - (timing.scheduleMs + timing.createMs + timing.readyMs))).toBeLessThan(100);
    } finally {
      ctl.abort();
      undo();
    }
  });

  it('simulates the readiness failures the platform must name', async () => {
    const cases = [
      { label: 'pull', behaviour: { imagePullBackOff: true }, expect: (p: V1Pod) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' },
      { label: 'crash', behaviour: { crashLoopBackOff: true }, expect: (p: V1Pod) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 },
      { label: 'sched', behaviour: { unschedulable: true }, expect: (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') === true },
      { label: 'probe', behaviour: { readinessFailing: true }, expect: (p: V1Pod) => p.status?.phase === 'Running' && !isReady(p) },
      // The backing process fails to start (the factory throws).
      { label: 'start', behaviour: {}, expect: (p: V1Pod) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerError' && p.status.containerStatuses[0]!.state!.waiting!.message!.includes('executable file not found') },
    ];
    const undos = cases.map((c) => kube.setPodBehaviour({ labels: { case: c.label } }, c.behaviour));
    try {
      for (const c of cases) {
        await core.createNamespacedPod({ namespace: 'staging', body: { metadata: { name: `bad-${c.label}`, labels: { case: c.label } }, spec: { containers: [{ name: 'c', image: 'ghcr.io/x/missing:1' }] } } });
      }
      for (const c of cases) {
        await waitUntil(async () => c.expect(await core.readNamespacedPod({ namespace: 'staging', name: `bad-${c.label}` })), 3000);
      }
      // The probe failure leaves an Unhealthy event, the image pull a Failed one, as a real kubelet does.
      const events = await core.listNamespacedEvent({ namespace: 'staging' });
      const reasons = (name: string): string[] => events.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason ?? '');
      expect(reasons('bad-probe')).toContain('Unhealthy');
      expect(reasons('bad-pull')).toContain('Failed');
      expect(reasons('bad-sched')).toContain('FailedScheduling');
    } finally {
      undos.forEach((u) => u());
    }
  });

  it('port-forwards real HTTP to the pod behind client-node PortForward, and breaks when the pod is deleted', async () => {
    await apps.createNamespacedDeployment({ namespace: 'staging', body: deployment('web', 1) });
    await waitUntil(async () => (await readyPods('app=web')).length === 1, 5000);
    const podName = (await readyPods('app=web'))[0]!.metadata!.name!;
    // A local listener whose connections go through PortForward, as the platform does.
    const forward = new PortForward(kube.kubeConfig);
    const sockets: import('node:net').Socket[] = [];
    let closedStreams = 0;
    const local: NetServer = createNetServer((socket) => {
      sockets.push(socket);
      forward.portForward('staging', podName, [8080], socket, null, socket).then(
        (ws) => {
          // client-node leaves the local socket open when the WebSocket closes: the caller ends it.
          if (typeof ws !== 'function') {
            ws.on('close', () => {
              closedStreams++;
              socket.destroy();
            });
          }
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    try {
      const port = (local.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/tasks`);
      expect(await res.text()).toBe(`hello from ${podName} /tasks`);
      // A kept-alive connection through the forward breaks once the pod goes.
      const agentRes = await fetch(`http://127.0.0.1:${port}/again`);
      expect(await agentRes.text()).toBe(`hello from ${podName} /again`);
      await core.deleteNamespacedPod({ namespace: 'staging', name: podName, gracePeriodSeconds: 0 });
      await waitUntil(() => closedStreams === sockets.length && sockets.every((s) => s.destroyed), 2000);
      const after = await fetch(`http://127.0.0.1:${port}/x`).then(
        (r) => r.text(),
        (e: unknown) => `error: ${String(e)}`,
      );
      expect(after).not.toContain('hello from');
      // A forward to a pod that is gone, or without the RBAC right, is refused before the upgrade.
      const direct = new PortForward(kube.kubeConfig);
      const sink = new (await import('node:stream')).PassThrough();
      await expect(direct.portForward('staging', podName, [8080], sink, null, sink)).rejects.toBeDefined();
      await waitUntil(async () => (await readyPods('app=web')).length === 1, 5000);
      const live = (await readyPods('app=web'))[0]!.metadata!.name!;
      const undo = kube.faults.forbid({ resource: 'pods', subresource: 'portforward' });
      try {
        await expect(direct.portForward('staging', live, [8080], sink, null, sink)).rejects.toBeDefined();
      } finally {
        undo();
      }
      const refused = kube.requests.filter((r) => r.path.endsWith('/portforward')).map((r) => r.status);
      expect(refused.slice(-2)).toEqual([404, 403]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => local.close(() => r()));
    }
  });

  it('kills pods per PodChaos mode and reports the Chaos Mesh status, finalizer cleared on delete', async () => {
    await apps.createNamespacedDeployment({ namespace: 'staging', body: deployment('victims', 4) });
    await waitUntil(async () => (await readyPods('app=victims')).length === 4, 5000);
    const args = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'podchaos' };
    const before = new Set((await readyPods('app=victims')).map((p) => p.metadata!.name!));
    await custom.createNamespacedCustomObject({
      ...args,
      body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata: { name: 'kill-half' }, spec: { action: 'pod-kill', mode: 'fixed-percent', value: '50', duration: '400ms', selector: { labelSelectors: { app: 'victims' } } } },
    });
    type Chaos = { metadata: { finalizers?: string[] }; status?: { conditions?: { type: string; status: string }[]; experiment?: { desiredPhase?: string; containerRecords?: { id: string; phase: string }[] } } };
    const read = async (): Promise<Chaos> => (await custom.getNamespacedCustomObject({ ...args, name: 'kill-half' })) as Chaos;
    const cond = (c: Chaos, t: string): string | undefined => c.status?.conditions?.find((x) => x.type === t)?.status;
    await waitUntil(async () => cond(await read(), 'AllInjected') === 'True' && cond(await read(), 'Selected') === 'True', 2000).catch(async (e) => {
      console.log(JSON.stringify(await read(), null, 1), kube.chaos.actions);
      throw e;
    });
    const injected = await read();
    expect(injected.metadata.finalizers).toEqual(['chaos-mesh/records']);
    const killed = injected.status!.experiment!.containerRecords!.map((r) => r.id);
    expect(killed).toHaveLength(2);
    for (const id of killed) expect(before.has(id.split('/')[1]!)).toBe(true);
    for (const id of killed) expect(kube.get('pods', 'staging', id.split('/')[1]!)).toBeUndefined();
    // The Deployment brings the count back; the duration ends the experiment.
    await waitUntil(async () => (await readyPods('app=victims')).length === 4, 5000);
    await waitUntil(async () => cond(await read(), 'AllRecovered') === 'True', 2000);
    expect((await read()).status?.experiment?.desiredPhase).toBe('Stop');
    await custom.deleteNamespacedCustomObject({ ...args, name: 'kill-half' });
    await waitUntil(() => kube.get('podchaos', 'staging', 'kill-half') === undefined, 2000);
    // Held by the finalizer while the controller is down.
    kube.chaos.setRunning(false);
    await custom.createNamespacedCustomObject({
      ...args,
      body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata: { name: 'stuck', finalizers: ['chaos-mesh/records'] }, spec: { action: 'pod-kill', mode: 'one', selector: { labelSelectors: { app: 'nothing' } } } },
    });
    await custom.deleteNamespacedCustomObject({ ...args, name: 'stuck' });
    expect(kube.get('podchaos', 'staging', 'stuck')?.metadata.deletionTimestamp).toBeTruthy();
    kube.chaos.setRunning(true);
    await waitUntil(() => kube.get('podchaos', 'staging', 'stuck') === undefined, 2000);
  });

  it('records a NetworkChaos delay against the target pods, calls the hook, and recovers on delete', async () => {
    const sts = { metadata: { name: 'db', labels: { app: 'postgres' } }, spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'postgres' } }, template: { metadata: { labels: { app: 'postgres' } }, spec: { containers: [{ name: 'pg', image: 'postgres:17' }] } } } };
    await apps.createNamespacedStatefulSet({ namespace: 'staging', body: sts });
    await apps.createNamespacedDeployment({ namespace: 'staging', body: deployment('client', 1) });
    await waitUntil(async () => (await readyPods('app=postgres')).length === 1 && (await readyPods('app=client')).length === 1, 5000);
    const hooked: string[] = [];
    kube.chaos.onNetworkChaos = (op, obj, action) => {
      hooked.push(`${op} ${obj.metadata.name} ${action.pods.join(',')} -> ${(action.targets ?? []).join(',')}`);
    };
    const args = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'networkchaos' };
    try {
      await custom.createNamespacedCustomObject({
        ...args,
        body: {
          apiVersion: 'chaos-mesh.org/v1alpha1',
          kind: 'NetworkChaos',
          metadata: { name: 'db-delay' },
          spec: {
            action: 'delay',
            mode: 'all',
            selector: { labelSelectors: { app: 'client' } },
            direction: 'to',
            target: { mode: 'all', selector: { labelSelectors: { app: 'postgres' } } },
            delay: { latency: '100ms', jitter: '10ms', correlation: '25' },
            duration: '5m',
          },
        },
      });
      type Chaos = { status?: { conditions?: { type: string; status: string }[] } };
      const allInjected = async (): Promise<boolean> =>
        ((await custom.getNamespacedCustomObject({ ...args, name: 'db-delay' })) as Chaos).status?.conditions?.some((c) => c.type === 'AllInjected' && c.status === 'True') === true &&
        ((await custom.getNamespacedCustomObject({ ...args, name: 'db-delay' })) as Chaos).status?.conditions?.some((c) => c.type === 'Selected' && c.status === 'True') === true;
      await waitUntil(allInjected, 2000);
      const client = (await readyPods('app=client'))[0]!.metadata!.name!;
      expect(hooked).toEqual([`Apply db-delay staging/${client} -> staging/db-0`]);
      // Nothing was killed: the pods are still there.
      expect((await readyPods('app=client')).map((p) => p.metadata?.name)).toEqual([client]);
      await custom.deleteNamespacedCustomObject({ ...args, name: 'db-delay' });
      await waitUntil(() => kube.get('networkchaos', 'staging', 'db-delay') === undefined, 2000);
      expect(hooked).toEqual([`Apply db-delay staging/${client} -> staging/db-0`, `Recover db-delay staging/${client} -> staging/db-0`]);
    } finally {
      kube.chaos.onNetworkChaos = undefined;
    }
  });

  it("refuses what Chaos Mesh's webhook refuses and pauses on the annotation", async () => {
    const args = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'podchaos' };
    const body = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Record<string, unknown> => ({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
      spec: { action: 'pod-kill', selector: { labelSelectors: { app: 'nobody' } }, ...spec },
    });
    const err = await custom.createNamespacedCustomObject({ ...args, body: body('no-value', { mode: 'fixed' }) }).then(
      () => undefined,
      (e: { code?: number; body?: string }) => e,
    );
    expect(err?.code).toBe(403);
    expect(JSON.parse(err!.body!).message).toBe('admission webhook "vpodchaos.kb.io" denied the request: spec.value: Invalid value: "": value is required in mode fixed');
    await custom.createNamespacedCustomObject({ ...args, body: body('paused', { mode: 'one' }, { 'experiment.chaos-mesh.org/pause': 'true' }) });
    type Chaos = { status?: { conditions?: { type: string; status: string }[]; experiment?: { desiredPhase?: string } } };
    await waitUntil(async () => ((await custom.getNamespacedCustomObject({ ...args, name: 'paused' })) as Chaos).status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True') === true, 2000);
    expect(((await custom.getNamespacedCustomObject({ ...args, name: 'paused' })) as Chaos).status?.experiment?.desiredPhase).toBe('Stop');
    await custom.deleteNamespacedCustomObject({ ...args, name: 'paused' });
    await waitUntil(() => kube.get('podchaos', 'staging', 'paused') === undefined, 2000);
  });

  it('keeps a failed injection Not Injected (AllInjected False) and retries it until it succeeds', async () => {
    await apps.createNamespacedDeployment({ namespace: 'staging', body: deployment('flaky', 1) });
    await waitUntil(async () => (await readyPods('app=flaky')).length === 1, 5000);
    const victim = (await readyPods('app=flaky'))[0]!.metadata!.name!;
    let failing = true;
    kube.chaos.failApply = () => (failing ? 'rpc error: code = Unavailable desc = connection refused (chaos-daemon)' : undefined);
    const args = { group: 'chaos-mesh.org', version: 'v1alpha1', namespace: 'staging', plural: 'podchaos' };
    type Chaos = { status?: { conditions?: { type: string; status: string }[]; experiment?: { containerRecords?: { id: string; phase: string; events: { type: string; message?: string }[] }[] } } };
    const read = async (): Promise<Chaos> => (await custom.getNamespacedCustomObject({ ...args, name: 'flaky-kill' })) as Chaos;
    const cond = (c: Chaos, t: string): string | undefined => c.status?.conditions?.find((x) => x.type === t)?.status;
    try {
      await custom.createNamespacedCustomObject({
        ...args,
        body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata: { name: 'flaky-kill' }, spec: { action: 'pod-kill', mode: 'one', selector: { labelSelectors: { app: 'flaky' } } } },
      });
      await waitUntil(async () => cond(await read(), 'Selected') === 'True', 2000);
      const failed = await read();
      expect(cond(failed, 'AllInjected')).toBe('False');
      expect(failed.status?.experiment?.containerRecords?.[0]).toMatchObject({ id: `staging/${victim}`, phase: 'Not Injected' });
      expect(failed.status?.experiment?.containerRecords?.[0]?.events[0]).toMatchObject({ type: 'Failed', message: expect.stringContaining('chaos-daemon') });
      expect(kube.get('pods', 'staging', victim)).toBeDefined();
      const warnings = (await core.listNamespacedEvent({ namespace: 'staging', fieldSelector: 'involvedObject.name=flaky-kill,type=Warning' })).items;
      expect(warnings.map((e) => e.reason)).toContain('Failed');
      failing = false;
      await waitUntil(async () => cond(await read(), 'AllInjected') === 'True', 2000);
      await waitUntil(() => kube.get('pods', 'staging', victim) === undefined, 2000);
    } finally {
      kube.chaos.failApply = undefined;
      await custom.deleteNamespacedCustomObject({ ...args, name: 'flaky-kill' }).catch(() => undefined);
    }
  });
});
