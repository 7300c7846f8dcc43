// Debian's kubectl 1.32 as a second real client of the fake API server: discovery, apply (create,
// then a patch), server-side dry run, the apiserver's validation errors, get (Table output), get -w,
// delete with garbage collection of the Deployment's pods.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from './fake/index.js';

let kube: FakeKube;
beforeAll(async () => {
  kube = await startFakeKube({ namespaces: ['default', 'staging'], contextNamespace: 'staging', metricsApi: true });
});
afterAll(async () => {
  await kube?.close();
});

const manifests = (replicas: number, duration: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: task-api
  labels: {app: task-api}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: task-api}}
  template:
    metadata: {labels: {app: task-api}}
    spec:
      containers:
      - name: api
        image: task-api:1
        ports: [{containerPort: 8080}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
---
apiVersion: v1
kind: Service
metadata: {name: task-api}
spec:
  selector: {app: task-api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill-one}
spec:
  action: pod-kill
  mode: one
  duration: ${duration}
  selector: {labelSelectors: {app: nothing-here}}
`;

async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!(await pred())) throw new Error(`condition not reached within ${ms} ms`);
}

describe('kubectl against the fake API server', () => {
  it('applies, re-applies as a patch, dry-runs, gets and deletes', async () => {
    const created = await kube.kubectl(['apply', '-f', '-'], { input: manifests(2, '30s') });
    expect(created.stderr).toBe('');
    expect(created.stdout.trim().split('\n')).toEqual(['deployment.apps/task-api created', 'service/task-api created', 'podchaos.chaos-mesh.org/kill-one created']);
    await waitUntil(() => kube.list('pods', 'staging').filter((p) => (p.status as { conditions?: { type: string; status: string }[] })?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 2, 5000);

    const writesBefore = kube.writes().length;
    const again = await kube.kubectl(['apply', '-f', '-'], { input: manifests(3, '60s') });
    expect(again.stdout.trim().split('\n')).toEqual(['deployment.apps/task-api configured', 'service/task-api unchanged', 'podchaos.chaos-mesh.org/kill-one configured']);
    // kubectl's client-side apply: a strategic merge patch for the built-in kind, a merge patch for the CRD.
    const patches = kube.writes().slice(writesBefore).map((w) => `${w.method} ${w.info?.resource} ${w.contentType}`);
    expect(patches).toEqual(['PATCH deployments application/strategic-merge-patch+json', 'PATCH podchaos application/merge-patch+json']);
    expect((kube.get('deployments', 'staging', 'task-api')?.spec as { replicas: number }).replicas).toBe(3);
    const env = ((kube.get('deployments', 'staging', 'task-api')?.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env);
    expect(env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    expect((kube.get('podchaos', 'staging', 'kill-one')?.spec as { duration: string }).duration).toBe('60s');

    const dry = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifests(5, '90s') });
    expect(dry.stdout).toContain('deployment.apps/task-api configured (server dry run)');
    expect((kube.get('deployments', 'staging', 'task-api')?.spec as { replicas: number }).replicas).toBe(3);

    await waitUntil(async () => (await kube.kubectl(['get', 'deploy', 'task-api'])).stdout.includes('3/3'), 5000);
    const table = await kube.kubectl(['get', 'pods', '-l', 'app=task-api']);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1)).toHaveLength(3);
    for (const l of lines.slice(1)) expect(l).toMatch(/^task-api-\w{10}-\w{5}\s+1\/1\s+Running\s+0\s+\d+s$/);
    const json = JSON.parse((await kube.kubectl(['get', 'podchaos', 'kill-one', '-o', 'json'])).stdout) as { metadata: { finalizers: string[] } };
    expect(json.metadata.finalizers).toEqual(['chaos-mesh/records']);

    const deleted = await kube.kubectl(['delete', '-f', '-'], { input: manifests(3, '60s') });
    expect(deleted.stdout.trim().split('\n')).toEqual(['deployment.apps "task-api" deleted', 'service "task-api" deleted', 'podchaos.chaos-mesh.org "kill-one" deleted']);
    await waitUntil(() => kube.list('pods', 'staging').length === 0 && kube.list('replicasets', 'staging').length === 0 && kube.get('podchaos', 'staging', 'kill-one') === undefined, 5000);
  });

  it('prints the apiserver errors for an unknown field and an invalid value', async () => {
    const bad = manifests(1, '30s').split('---\n')[2]!.replace('duration:', 'durationn:');
    const unknown = await kube.kubectl(['apply', '-f', '-'], { input: bad });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Error from server (BadRequest): error when creating "STDIN": PodChaos in version "v1alpha1" cannot be handled as a PodChaos: strict decoding error: unknown field "spec.durationn"');
    const invalid = await kube.kubectl(['apply', '-f', '-'], { input: manifests(1, '30s').split('---\n')[2]!.replace('mode: one', 'mode: sometimes') });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The PodChaos "kill-one" is invalid: spec.mode: Unsupported value: "sometimes": supported values: "one", "all", "fixed", "fixed-percent", "random-max-percent"');
    const undo = kube.faults.forbid({ verb: 'list', resource: 'pods' });
    const forbidden = await kube.kubectl(['get', 'pods']);
    undo();
    expect(forbidden.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:gameday:gameday" cannot list resource "pods" in API group "" in the namespace "staging"');
  });

  it('follows pod changes with get -w', async () => {
    const child = spawn('kubectl', [`--cache-dir=${kube.dir}/kubectl-cache`, 'get', 'pods', '-w', '--output-watch-events'], { env: { ...process.env, KUBECONFIG: kube.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      await waitUntil(() => kube.server.openWatches('pods') === 1, 10_000);
      const pod = { metadata: { name: 'watched' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
      const r = await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod }) });
      expect(r.code).toBe(0);
      await waitUntil(() => /MODIFIED\s+watched\s+1\/1\s+Running/.test(out), 5000);
      await kube.kubectl(['delete', 'pod', 'watched', '--wait=false']);
      await waitUntil(() => /DELETED\s+watched/.test(out), 5000);
      expect(out).toMatch(/^EVENT\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
      expect(out).toMatch(/ADDED\s+watched\s+0\/1\s+Pending/);
    } finally {
      child.kill('SIGTERM');
      await exited;
      clearTimeout(guard);
    }
  });

  it('serves the metrics API that kubectl top reads', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', labels: { app: 'busy' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    expect((await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) })).code).toBe(0);
    await waitUntil(() => (kube.get('pods', 'staging', 'busy')?.status as { phase?: string } | undefined)?.phase === 'Running', 3000);
    kube.cluster.setUsage('staging', 'busy', { cpuMillicores: 250, memoryBytes: 64 * 1024 * 1024 });
    const top = await kube.kubectl(['top', 'pod', 'busy']);
    expect(top.stderr).toBe('');
    expect(top.stdout.trim().split('\n')[1]).toMatch(/^busy\s+250m\s+64Mi$/);
    await kube.kubectl(['delete', 'pod', 'busy']);
  });
});
