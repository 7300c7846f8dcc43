import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifests, workloadTemplates } from '../../harness/kube/templates.js';
import {
  chaosObjectProblems,
  faultObjectName,
  faultObjects,
  isProductionName,
  namespaceLabelRefusal,
  namespaceMatches,
  newRunId,
  isRunId,
  postgresSelector,
  RUN_LABEL,
  taskApiSelector,
  workloadObjects,
  workloadSteps,
  type KubeObject,
  type KubernetesPlatformPlan,
} from '../../harness/kube/index.js';
import type { FaultPlan, PodKillFaultPlan } from '../../harness/scenario/plan.js';
import { coreProblems, crdProblems, schemaProblems } from './objects-schema.js';

const RUN = { runId: 'r1a2b3', databasePassword: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' };
const COST = ['team', 'app', 'environment', 'cost-center'];

function platform(over: Partial<KubernetesPlatformPlan> = {}): KubernetesPlatformPlan {
  return {
    kind: 'kubernetes',
    namespace: 'staging',
    workload: {
      kind: 'deploy',
      image: 'registry.example/gameday/task-api:1.2.3',
      postgresImage: 'postgres:17.6',
      replicas: 4,
      pool: { size: 12, acquireTimeoutMs: 1500, statementTimeoutMs: 4000 },
      seedRows: 500,
      terminationGracePeriodMs: 7000,
      faultInjection: [],
      labels: { environment: 'staging' },
    },
    access: { kind: 'port-forward', service: 'task-api', port: 8000 },
    readyTimeoutMs: 300_000,
    guard: { allowNamespaces: ['staging'], allowProduction: false, allowModeAll: false },
    ...over,
  };
}

const byKind = (objects: KubeObject[], kind: string): any => objects.find((o) => o.kind === kind && o.metadata.name === (kind === 'Job' ? 'task-api-seed' : kind === 'StatefulSet' || kind === 'Secret' ? 'postgres' : 'task-api'));
const env = (container: any, name: string): unknown => container.env.find((e: { name: string }) => e.name === name);

describe('the shipped manifests (fixtures/manifests/)', () => {
  const docs = (f: string) => readManifests(`fixtures/manifests/${f}.yaml`) as any[];

  it('are the seed\'s: Deployment with the four cost labels on metadata and pod template, requests/limits, probes on /health, its Service', () => {
    const [deployment, service] = docs('task-api-deployment');
    expect(deployment.metadata).toMatchObject({ name: 'task-api', namespace: 'production', labels: { team: 'product-team', app: 'task-api', environment: 'production', 'cost-center': 'engineering' } });
    expect(deployment.spec.template.metadata.labels).toEqual(deployment.metadata.labels);
    const c = deployment.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '500m', memory: '1Gi' } });
    expect(c.livenessProbe).toEqual({ httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 10, periodSeconds: 10 });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 5, periodSeconds: 5 });
    expect(service.spec).toEqual({ selector: { app: 'task-api' }, ports: [{ port: 8000, targetPort: 8000, name: 'http' }] });
  });

  it('PostgreSQL is a StatefulSet labelled app: postgres, container postgres, data where the Velero hook dumps', () => {
    const sts = docs('postgres').find((d) => d.kind === 'StatefulSet');
    expect(sts.spec.template.metadata.labels.app).toBe('postgres');
    const c = sts.spec.template.spec.containers[0];
    expect(c.name).toBe('postgres');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/postgresql/data' }]);
    const schedule = docs('task-api-velero-schedule')[0];
    const hook = schedule.spec.template.hooks.resources[0];
    expect(hook.labelSelector.matchLabels).toEqual({ app: 'postgres' });
    expect(hook.pre[0].exec).toMatchObject({ container: 'postgres', onError: 'Fail', timeout: '120s' });
    expect(hook.pre[0].exec.command[2]).toContain('> /var/lib/postgresql/data/backup.sql');
  });

  it('VPA (updateMode Off), Velero Schedule and PodChaos validate against their upstream CRDs; core objects against Kubernetes schemas', async () => {
    for (const f of ['task-api-deployment', 'postgres', 'task-api-seed-job', 'task-api-vpa', 'task-api-velero-schedule', 'task-api-podchaos']) {
      for (const d of docs(f)) expect(await schemaProblems(d), `${f} ${d.kind}`).toEqual([]);
    }
    expect(docs('task-api-vpa')[0].spec.updatePolicy.updateMode).toBe('Off');
    expect(docs('task-api-podchaos')[0].spec).toEqual({ action: 'pod-kill', mode: 'one', selector: { namespaces: ['staging'], labelSelectors: { app: 'task-api' } }, duration: '60s' });
  });

  it('a missing, broken or incomplete template is a precise error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-manifests-'));
    try {
      cpSync('fixtures/manifests', dir, { recursive: true });
      expect(workloadTemplates(dir).taskApiDeployment.metadata?.name).toBe('task-api');
      const api = join(dir, 'task-api-deployment.yaml');
      writeFileSync(api, readFileSync(api, 'utf8').split('---\n')[0]!);
      expect(() => workloadTemplates(dir)).toThrow(`${api}: no Service named task-api (the Kubernetes platform's template)`);
      writeFileSync(api, 'kind: [Deployment\n');
      expect(() => workloadTemplates(dir)).toThrow(`${api}: document 1 is not valid YAML: `);
      unlinkSync(join(dir, 'postgres.yaml'));
      writeFileSync(api, readFileSync('fixtures/manifests/task-api-deployment.yaml', 'utf8'));
      expect(() => workloadTemplates(dir)).toThrow(`${join(dir, 'postgres.yaml')}: cannot read the manifest (ENOENT)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the validators do reject: an unknown field, a wrong enum, a wrong type', async () => {
    const chaos = docs('task-api-podchaos')[0];
    expect(crdProblems({ ...chaos, spec: { ...chaos.spec, gracefulPeriod: 1 } })).toEqual(['/spec: must NOT have additional properties (gracefulPeriod)']);
    expect(crdProblems({ ...chaos, spec: { ...chaos.spec, mode: 'some' } })).toEqual(['/spec/mode: must be equal to one of the allowed values']);
    const vpa = docs('task-api-vpa')[0];
    expect(crdProblems({ ...vpa, spec: { ...vpa.spec, updatePolicy: { updateMode: 'Sometimes' } } })).toEqual(['/spec/updatePolicy/updateMode: must be equal to one of the allowed values']);
    const [deployment] = docs('task-api-deployment');
    deployment.spec.replicas = 'three';
    expect((await coreProblems(deployment)).join()).toMatch(/spec\/replicas must be integer/);
  });
});

describe('workload objects (a deploy)', () => {
  const steps = workloadSteps(platform(), RUN);
  const objects = steps.flatMap((s) => s.objects);

  it('come in three steps, in apply order, each with what ends it', () => {
    expect(steps.map((s) => [s.step, s.objects.map((o) => `${o.kind}/${o.metadata.name}`), `${s.waitFor.kind}/${s.waitFor.name}`])).toEqual([
      ['postgres', ['Secret/postgres', 'Service/postgres', 'StatefulSet/postgres'], 'StatefulSet/postgres'],
      ['seed', ['Job/task-api-seed'], 'Job/task-api-seed'],
      ['task-api', ['Service/task-api', 'Deployment/task-api'], 'Deployment/task-api'],
    ]);
    expect(workloadObjects(platform(), RUN)).toEqual(objects);
  });

  it('every object, pod template and volume claim carries the run label, in the plan\'s namespace', () => {
    for (const o of objects as any[]) {
      expect(o.metadata.namespace).toBe('staging');
      expect(o.metadata.labels[RUN_LABEL], `${o.kind}`).toBe(RUN.runId);
      if (o.spec?.template) expect(o.spec.template.metadata.labels[RUN_LABEL], `${o.kind} pods`).toBe(RUN.runId);
    }
    expect(byKind(objects, 'StatefulSet').spec.volumeClaimTemplates[0].metadata.labels[RUN_LABEL]).toBe(RUN.runId);
  });

  it('selectors select only this run\'s pods; the chaos selector is the Deployment\'s', () => {
    const d = byKind(objects, 'Deployment');
    expect(d.spec.selector.matchLabels).toEqual({ app: 'task-api', [RUN_LABEL]: RUN.runId });
    expect(taskApiSelector(RUN.runId)).toEqual(d.spec.selector.matchLabels);
    expect(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'task-api')!['spec']).toMatchObject({ selector: d.spec.selector.matchLabels });
    expect(byKind(objects, 'StatefulSet').spec.selector.matchLabels).toEqual(postgresSelector(RUN.runId));
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
  });

  it('keeps the four cost labels equal on the Deployment and its pods, with the plan\'s environment', () => {
    const d = byKind(objects, 'Deployment');
    for (const key of COST) expect(d.spec.template.metadata.labels[key], key).toBe(d.metadata.labels[key]);
    expect(d.metadata.labels.environment).toBe('staging');
  });

  it('takes the image, replicas, pool, grace period, rows and password from the plan', () => {
    const d = byKind(objects, 'Deployment');
    expect(d.spec.replicas).toBe(4);
    const spec = d.spec.template.spec;
    expect(spec.terminationGracePeriodSeconds).toBe(7);
    const c = spec.containers[0];
    expect(c.image).toBe('registry.example/gameday/task-api:1.2.3');
    expect([env(c, 'POOL_SIZE'), env(c, 'POOL_ACQUIRE_TIMEOUT_MS'), env(c, 'STATEMENT_TIMEOUT_MS'), env(c, 'HOST'), env(c, 'FAULT_INJECTION')]).toEqual([
      { name: 'POOL_SIZE', value: '12' },
      { name: 'POOL_ACQUIRE_TIMEOUT_MS', value: '1500' },
      { name: 'STATEMENT_TIMEOUT_MS', value: '4000' },
      { name: 'HOST', value: '0.0.0.0' },
      undefined,
    ]);
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(byKind(objects, 'StatefulSet').spec.template.spec.containers[0].image).toBe('postgres:17.6');
    const seed = byKind(objects, 'Job').spec.template.spec.containers[0];
    expect([seed.image, env(seed, 'SEED_ROWS')]).toEqual(['registry.example/gameday/task-api:1.2.3', { name: 'SEED_ROWS', value: '500' }]);
    expect(byKind(objects, 'Secret').stringData.POSTGRES_PASSWORD).toBe(RUN.databasePassword);
  });

  it('enables the leak endpoint only when a fault needs it', () => {
    const p = platform();
    const withLeak = workloadObjects({ ...p, workload: { ...(p.workload as any), faultInjection: ['leak'] } }, RUN);
    expect(env(byKind(withLeak, 'Deployment').spec.template.spec.containers[0], 'FAULT_INJECTION')).toEqual({ name: 'FAULT_INJECTION', value: 'leak' });
  });

  it('are valid Kubernetes objects, and the templates are left as they were', async () => {
    for (const o of objects) expect(await coreProblems(o), o.kind).toEqual([]);
    const again = workloadObjects(platform(), RUN);
    expect(again).toEqual(objects);
    expect((readManifests('fixtures/manifests/task-api-deployment.yaml')[0] as any).metadata.namespace).toBe('production');
  });

  it('an existing workload deploys nothing', () => {
    expect(workloadSteps(platform({ workload: { kind: 'existing', selector: { app: 'orders' }, databaseSelector: { app: 'postgres' } } }), RUN)).toEqual([]);
  });
});

describe('chaos objects', () => {
  const base = { atMs: 10_000, durationMs: 15_000 };
  const input = { platform: platform(), runId: RUN.runId, podSelector: taskApiSelector(RUN.runId) };
  const podKill = (mode: PodKillFaultPlan['mode'], value?: number): PodKillFaultPlan => ({ kind: 'pod-kill', name: 'kill', ...base, mode, ...(value !== undefined ? { value } : {}) });

  it.each([
    ['one', undefined, { mode: 'one' }],
    ['all', undefined, { mode: 'all' }],
    ['fixed', 2, { mode: 'fixed', value: '2' }],
    ['fixed-percent', 50, { mode: 'fixed-percent', value: '50' }],
  ] as const)('pod-kill mode %s → PodChaos valid against the CRD', (mode, value, selection) => {
    const [o] = faultObjects(podKill(mode, value), 0, input);
    expect(o).toEqual({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'PodChaos',
      metadata: { name: `kill-${RUN.runId}`, namespace: 'staging', labels: { [RUN_LABEL]: RUN.runId, 'app.kubernetes.io/managed-by': 'gameday', 'gameday.dev/fault': 'kill' } },
      spec: { action: 'pod-kill', ...selection, selector: { namespaces: ['staging'], labelSelectors: { app: 'task-api', [RUN_LABEL]: RUN.runId } }, duration: '15s' },
    });
    expect(crdProblems(o!)).toEqual([]);
  });

  it.each(['to', 'from', 'both'] as const)('network-delay direction %s → NetworkChaos delay from the Task API pods to PostgreSQL, valid against the CRD', (direction) => {
    const fault: FaultPlan = { kind: 'network-delay', name: 'db-slow', ...base, durationMs: 1500, selector: 'database', direction, delay: { latencyMs: 1500, jitterMs: 0, correlation: 25 } };
    const [o] = faultObjects(fault, 1, input);
    expect(o!['spec']).toEqual({
      action: 'delay',
      mode: 'all',
      selector: { namespaces: ['staging'], labelSelectors: taskApiSelector(RUN.runId) },
      direction,
      target: { mode: 'all', selector: { namespaces: ['staging'], labelSelectors: { app: 'postgres', [RUN_LABEL]: RUN.runId } } },
      delay: { latency: '1500ms', jitter: '0s', correlation: '25' },
      duration: '1500ms',
    });
    expect(crdProblems(o!)).toEqual([]);
  });

  it('network-delay on an existing workload targets its database selector', () => {
    const existing = { ...input, platform: platform({ workload: { kind: 'existing', selector: { app: 'orders' }, databaseSelector: { 'app.kubernetes.io/name': 'orders-db' } } }), podSelector: { app: 'orders' } };
    const [o] = faultObjects({ kind: 'network-delay', name: 'd', ...base, selector: 'database', direction: 'to', delay: { latencyMs: 200, jitterMs: 20, correlation: 0 } }, 0, existing);
    expect((o!['spec'] as any).target.selector.labelSelectors).toEqual({ 'app.kubernetes.io/name': 'orders-db' });
    expect((o!['spec'] as any).selector.labelSelectors).toEqual({ app: 'orders' });
    expect(crdProblems(o!)).toEqual([]);
  });

  it.each(['hold', 'lock'] as const)('pool-exhaustion %s → a bounded Job running psql against the run\'s PostgreSQL', async (mode) => {
    const [o] = faultObjects({ kind: 'pool-exhaustion', name: `pool-${mode}`, ...base, durationMs: 8000, mode, ...(mode === 'hold' ? { connections: 40 } : {}), replicas: { mode: 'one' } }, 2, input) as any[];
    expect(await coreProblems(o)).toEqual([]);
    expect(o.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 68 });
    expect(o.spec.template.metadata.labels[RUN_LABEL]).toBe(RUN.runId);
    const c = o.spec.template.spec.containers[0];
    expect(c.image).toBe('postgres:17.6');
    expect(env(c, 'HOLD_SECONDS')).toEqual({ name: 'HOLD_SECONDS', value: '8' });
    expect(env(c, 'PGHOST')).toEqual({ name: 'PGHOST', value: 'postgres' });
    expect(env(c, 'HOLD_CONNECTIONS')).toEqual(mode === 'hold' ? { name: 'HOLD_CONNECTIONS', value: '40' } : undefined);
    expect(c.command[2]).toContain(mode === 'lock' ? 'LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE' : 'idle_session_timeout');
  });

  it('leak, exec and http create no object', () => {
    expect(faultObjects({ kind: 'pool-exhaustion', name: 'leak', ...base, mode: 'leak', replicas: { mode: 'one' } }, 0, input)).toEqual([]);
    expect(faultObjects({ kind: 'http', name: 'h', ...base, inject: { method: 'POST', url: 'http://127.0.0.1:1/x', headers: {}, timeoutMs: 1000 } }, 0, input)).toEqual([]);
  });

  it('names stay DNS labels of at most 63 and distinct when long fault names are cut', () => {
    const long = 'a'.repeat(60);
    const a = faultObjectName(`${long}-one`, 0, 'abcdefghij');
    const b = faultObjectName(`${long}-two`, 1, 'abcdefghij');
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(faultObjectName('kill', 0, 'abc')).toBe('kill-abc');
  });

  it('run ids are label-safe and fresh', () => {
    const ids = new Set(Array.from({ length: 50 }, newRunId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(isRunId(id)).toBe(true);
    expect(isRunId('Bad_id')).toBe(false);
  });
});

describe('guardrails', () => {
  const guard = { allowNamespaces: ['staging', 'gameday-*'], allowProduction: false, allowModeAll: false };

  it('match the allowlist exactly or by *', () => {
    expect(['staging', 'gameday-7', 'gameday-'].map((n) => guard.allowNamespaces.some((p) => namespaceMatches(n, p)))).toEqual([true, true, true]);
    expect(['staging2', 'xstaging', 'gameday'].map((n) => guard.allowNamespaces.some((p) => namespaceMatches(n, p)))).toEqual([false, false, false]);
  });

  it('say production by name as a whole word, and by label', () => {
    expect(['production', 'prod', 'eu-production', 'prod-2'].map(isProductionName)).toEqual([true, true, true, true]);
    expect(['product', 'productions', 'staging', 'preprod'].map(isProductionName)).toEqual([false, false, false, false]);
    expect(namespaceLabelRefusal('staging', { environment: 'production' }, guard)).toBe('namespace "staging" is labelled environment=production: gameday does not run chaos in production (pass --allow-production to run there anyway)');
    expect(namespaceLabelRefusal('staging', { environment: 'staging', team: 'product-team' }, guard)).toBeUndefined();
    expect(namespaceLabelRefusal('staging', { env: 'prod' }, { ...guard, allowProduction: true })).toBeUndefined();
  });

  it('review any chaos object: namespace, duration, mode', () => {
    const [ok] = faultObjects({ kind: 'pod-kill', name: 'k', atMs: 0, durationMs: 5000, mode: 'one' }, 0, { platform: platform(), runId: 'x', podSelector: { app: 'task-api' } });
    expect(chaosObjectProblems(ok!, guard)).toEqual([]);
    const seed = readManifests('fixtures/manifests/task-api-podchaos.yaml')[0] as KubeObject;
    expect(chaosObjectProblems(seed, guard)).toEqual([]);
    const bad = { ...seed, spec: { action: 'pod-kill', mode: 'fixed-percent', value: '80', selector: { namespaces: ['production'] } } };
    expect(chaosObjectProblems(bad, guard)).toEqual([
      'PodChaos chaos-mesh/task-api-pod-kill: targets namespace "production": expected a namespace in the allowlist (spec.platform.kubernetes.allowNamespaces or --allow-namespace: staging, gameday-*)',
      'PodChaos chaos-mesh/task-api-pod-kill: targets namespace "production": expected a namespace that is not production (its name says production; pass --allow-production to run there anyway)',
      'PodChaos chaos-mesh/task-api-pod-kill: no duration (every fault must be bounded)',
      'PodChaos chaos-mesh/task-api-pod-kill: spec.value "80": expected at most 50 with mode "fixed-percent" on a cluster (pass --allow-mode-all to select more)',
    ]);
  });
});
