import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../harness/cli/verify-command.js';
import { readManifestObjects } from '../../harness/conformance/index.js';
import { costVisibility } from '../../harness/conformance/opencost.js';
import { MANIFESTS_DIR } from '../../harness/kube/templates.js';
import { startFakeKube, type FakeKube } from '../kube/fake/index.js';

// Live mode against the fake API server holding the seed's objects (in staging), Velero's and the
// VPA's CRDs served from ../shared, and a loopback OpenCost.
const SHARED = join(MANIFESTS_DIR, '..', '..', '..', 'shared');
let crdDir: string;
let kube: FakeKube;
let opencost: Server;
let opencostUrl: string;
const opencostQueries: string[] = [];

/** The seed's manifests, moved from namespace production to staging (their labels still say environment=production). */
function seedObject(file: string, kind: string): Record<string, unknown> & { metadata: Record<string, unknown> } {
  const found = readManifestObjects([join(MANIFESTS_DIR, file)]).objects.find((f) => f.obj.kind === kind)!;
  return JSON.parse(JSON.stringify(found.obj).replaceAll('"namespace":"production"', '"namespace":"staging"').replaceAll('["production"]', '["staging"]')) as never;
}

function lines(): { out: string[]; err: string[]; output: { info(l: string): void; error(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { info: (l) => out.push(l), error: (l) => err.push(l) } };
}

beforeAll(async () => {
  // One CRD per file, as the fake reads them: Chaos Mesh's pod/network/stress chaos, Velero's Schedule and Backup, the VPA.
  crdDir = mkdtempSync(join(tmpdir(), 'gameday-conformance-crds-'));
  for (const f of ['podchaos', 'networkchaos', 'stresschaos']) copyFileSync(join(SHARED, 'chaos-mesh-crds', `chaos-mesh.org_${f}.yaml`), join(crdDir, `chaos-mesh.org_${f}.yaml`));
  for (const f of ['schedules', 'backups']) copyFileSync(join(SHARED, 'velero-crds', `velero.io_${f}.yaml`), join(crdDir, `velero.io_${f}.yaml`));
  const vpa = readFileSync(join(SHARED, 'vpa-crds', 'vpa-v1-crd-gen.vpa-1.7.1.yaml'), 'utf8').split(/^---\n/m).find((d) => /^ {4}kind: VerticalPodAutoscaler$/m.test(d))!;
  writeFileSync(join(crdDir, 'autoscaling.k8s.io_verticalpodautoscalers.yaml'), vpa);

  opencost = createServer((req, res) => {
    opencostQueries.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ code: 200, data: [{ 'product-team': { name: 'product-team', cpuCost: 0.0432, memoryCost: 0.0216, totalCost: 0.0648 } }] }));
  });
  await new Promise<void>((r) => opencost.listen(0, '127.0.0.1', r));
  opencostUrl = `http://127.0.0.1:${(opencost.address() as AddressInfo).port}`;

  kube = await startFakeKube({ namespaces: ['default', 'staging', 'velero', 'chaos-mesh'], crdDir, contextNamespace: 'staging', timing: { scheduleMs: 2, createMs: 2, readyMs: 2, terminateMs: 2 } });
  kube.create('deployments', seedObject('task-api-deployment.yaml', 'Deployment') as never);
  const vpaObj = seedObject('task-api-vpa.yaml', 'VerticalPodAutoscaler');
  kube.create('verticalpodautoscalers', {
    ...vpaObj,
    status: { recommendation: { containerRecommendations: [{ containerName: 'task-api', lowerBound: { cpu: '100m', memory: '200Mi' }, target: { cpu: '180m', memory: '450Mi' }, upperBound: { cpu: '500m', memory: '900Mi' } }] } },
  } as never);
  kube.create('schedules', { ...seedObject('task-api-velero-schedule.yaml', 'Schedule'), status: { phase: 'Enabled', lastBackup: '2025-12-30T02:00:00Z' } } as never);
  const backup = (name: string, start: string, hooksFailed: number): object => ({
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: 'velero', labels: { 'velero.io/schedule-name': 'task-api-production-daily' } },
    spec: { includedNamespaces: ['staging'], ttl: '720h0m0s' },
    status: { phase: hooksFailed ? 'PartiallyFailed' : 'Completed', startTimestamp: start, hookStatus: { hooksAttempted: 2, hooksFailed } },
  });
  kube.create('backups', backup('task-api-production-daily-20251229020000', '2025-12-29T02:00:00Z', 1) as never);
  kube.create('backups', backup('task-api-production-daily-20251230020000', '2025-12-30T02:00:00Z', 0) as never);
  // The seed's PodChaos as found on a cluster (its selector matches nothing here: no pod is killed meanwhile).
  const chaos = seedObject('task-api-podchaos.yaml', 'PodChaos');
  kube.create('podchaos', { ...chaos, spec: { ...(chaos['spec'] as object), selector: { namespaces: ['staging'], labelSelectors: { app: 'task-api-none' } } } } as never);
  // Wait (bounded) for the Deployment's three pods.
  for (let i = 0; i < 200 && kube.list('pods', 'staging').filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running').length < 3; i++) await new Promise((r) => setTimeout(r, 10));
});

afterAll(async () => {
  await kube?.close();
  await new Promise((r) => opencost?.close(r));
  rmSync(crdDir, { recursive: true, force: true });
});

describe('conformance, live (fake API server)', () => {
  it('reads the Deployment, its pods, the VPA, Velero and OpenCost: every criterion passes', async () => {
    const { out, err, output } = lines();
    const code = await verifyCommand([], { live: true, opencost: opencostUrl, env: { KUBECONFIG: kube.kubeconfigPath } }, output);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(code, text).toBe(0);
    expect(out[0]).toMatch(/^verify: live \(context fake \(https:\/\/127\.0\.0\.1:\d+\)\), namespace staging$/);
    expect(text).toContain('SC-001 team=product-team, app=task-api, environment=production, cost-center=engineering on 3 pods of Deployment staging/task-api and on its metadata');
    expect(text).toContain('Returns data (product-team: 0.0648)');
    expect(text).toContain('Available (task-api: cpu 180m, memory 450Mi)');
    expect(text).toContain('Schedule velero/task-api-production-daily: schedule "0 2 * * *", excluding events, pods, replicasets, phase Enabled, last backup 2025-12-30T02:00:00Z');
    // The newest Backup (not the older, partially failed one) is the one judged.
    expect(text).toContain('Backup velero/task-api-production-daily-20251230020000: Completed, 2 hook executions, none failed');
    expect(text).toContain('CHAOS-SAFETY PodChaos chaos-mesh/task-api-pod-kill: one in staging, 60s');
    expect(out.at(-1)).toBe('verify: PASSED — 7 passed, 0 failed, 0 not evaluated');
    expect(opencostQueries).toEqual(['/allocation/compute?window=1d&aggregate=label:team']);
  }, 20_000);

  it('SC-002 fails when OpenCost has no allocation for the team', async () => {
    const f = await costVisibility({ url: opencostUrl, window: '7d' }, 'platform-team');
    expect(f).toMatchObject({ actual: 1, shown: 'no data', detail: `OpenCost (${opencostUrl}/allocation/compute?window=7d&aggregate=label:team) has no allocation for team platform-team (teams: product-team)` });
    expect(opencostQueries.at(-1)).toBe('/allocation/compute?window=7d&aggregate=label:team');
  });

  it('names a pod of the workload that lacks cost labels', async () => {
    kube.create('pods', { metadata: { name: 'stray', namespace: 'staging', labels: { app: 'task-api', team: 'product-team' } }, spec: { containers: [{ name: 'task-api', image: 'task-api' }] } } as never);
    const { out, output } = lines();
    const code = await verifyCommand([], { live: true, opencost: opencostUrl, env: { KUBECONFIG: kube.kubeconfigPath } }, output);
    expect(code).toBe(1);
    expect(out).toContain('  SC-001 pod staging/stray lacks environment, cost-center');
    expect(out.at(-1)).toBe('verify: FAILED — 6 passed, 1 failed, 0 not evaluated');
  }, 20_000);

  it('says which component is not installed (Velero, the VPA) and exits 3', async () => {
    const bare = await startFakeKube({ namespaces: ['default', 'staging'], contextNamespace: 'staging' });
    try {
      const { out, err, output } = lines();
      const code = await verifyCommand([], { live: true, env: { KUBECONFIG: bare.kubeconfigPath } }, output);
      expect(code).toBe(3);
      expect(err).toEqual([
        'SC-003: the API server does not serve verticalpodautoscalers.autoscaling.k8s.io/v1: is the Vertical Pod Autoscaler installed? (kubectl get crd verticalpodautoscalers.autoscaling.k8s.io)',
        'SC-004: the API server does not serve schedules.velero.io/v1: is Velero installed? (kubectl get crd schedules.velero.io)',
        'SC-005: the API server does not serve schedules.velero.io/v1: is Velero installed? (kubectl get crd schedules.velero.io)',
        'SC-006: the API server does not serve schedules.velero.io/v1: is Velero installed? (kubectl get crd schedules.velero.io)',
      ]);
      expect(out).toContain('  SC-001 no Deployment staging/task-api in context fake (' + bare.url.replace('http:', 'https:') + ')');
      expect(out.at(-1)).toBe('verify: NOT READ — 1 passed, 1 failed, 1 not evaluated, 4 not read');
    } finally {
      await bare.close();
    }
  }, 20_000);
});
