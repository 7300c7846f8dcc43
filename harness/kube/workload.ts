import type { V1Container, V1EnvVar, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { KubeDeployWorkload, KubernetesPlatformPlan, LabelSelector } from './plan.js';
import { runLabels, RUN_LABEL } from './labels.js';
import { workloadTemplates, type WorkloadTemplates } from './templates.js';
import type { KubeObject } from './types.js';

/** What a run's objects depend on besides the plan: its id and its PostgreSQL password. */
export interface RunInput {
  runId: string;
  /** Hex (URL-safe): it is part of the Task API's DATABASE_URL. */
  databasePassword: string;
}

/**
 * One step of a deploy: its objects in apply order, and what the runtime waits for before the
 * next step (PostgreSQL ready before the seed, the seed Job complete before the Task API).
 */
export interface WorkloadStep {
  step: 'postgres' | 'seed' | 'task-api';
  objects: KubeObject[];
  /** The object whose readiness (StatefulSet/Deployment ready replicas, Job complete) ends the step. */
  waitFor: { kind: 'StatefulSet' | 'Job' | 'Deployment'; name: string };
}

/** The Task API pods of a deploy: the template's selector plus the run label (so no other run's pods match). */
export function taskApiSelector(runId: string, templates: WorkloadTemplates = workloadTemplates()): LabelSelector {
  return { ...(templates.taskApiDeployment.spec?.selector.matchLabels ?? {}), [RUN_LABEL]: runId };
}

/** The PostgreSQL pods of a deploy (`app: postgres` and the run label). */
export function postgresSelector(runId: string, templates: WorkloadTemplates = workloadTemplates()): LabelSelector {
  return { ...(templates.postgresStatefulSet.spec?.selector.matchLabels ?? {}), [RUN_LABEL]: runId };
}

/**
 * The objects a deploy applies, step by step, from fixtures/manifests/: the namespace, images,
 * replicas, pool settings, password and cost labels of the plan, and the run labels on every object,
 * pod template and volume claim. An existing workload deploys nothing: [].
 */
export function workloadSteps(k: KubernetesPlatformPlan, run: RunInput, templates: WorkloadTemplates = workloadTemplates()): WorkloadStep[] {
  if (k.workload.kind !== 'deploy') return [];
  const d = k.workload;
  const t = structuredClone(templates);
  const run_ = runLabels(run.runId);
  const meta = (m: V1ObjectMeta | undefined): KubeObject['metadata'] => ({
    ...(m as KubeObject['metadata']),
    name: m?.name ?? '',
    namespace: k.namespace,
    labels: { ...m?.labels, ...d.labels, ...run_ },
  });
  const pod = (p: V1PodTemplateSpec): void => {
    p.metadata = { ...p.metadata, labels: { ...p.metadata?.labels, ...d.labels, ...run_ } };
  };
  const runSelector = (s: { matchLabels?: Record<string, string> } | undefined): void => {
    if (s) s.matchLabels = { ...s.matchLabels, [RUN_LABEL]: run.runId };
  };

  const secret = t.postgresSecret;
  secret.metadata = meta(secret.metadata);
  secret.stringData = { ...secret.stringData, POSTGRES_PASSWORD: run.databasePassword };

  const pgService = t.postgresService;
  pgService.metadata = meta(pgService.metadata);
  if (pgService.spec) pgService.spec.selector = { ...pgService.spec.selector, [RUN_LABEL]: run.runId };

  const sts = t.postgresStatefulSet;
  sts.metadata = meta(sts.metadata);
  if (sts.spec) {
    runSelector(sts.spec.selector);
    pod(sts.spec.template);
    for (const c of sts.spec.template.spec?.containers ?? []) c.image = d.postgresImage;
    for (const claim of sts.spec.volumeClaimTemplates ?? []) claim.metadata = { ...claim.metadata, labels: { ...claim.metadata?.labels, ...run_ } };
  }

  const seed = t.seedJob;
  seed.metadata = meta(seed.metadata);
  if (seed.spec) {
    pod(seed.spec.template);
    for (const c of seed.spec.template.spec?.containers ?? []) {
      c.image = d.image;
      setEnv(c, 'SEED_ROWS', String(d.seedRows));
    }
  }

  const apiService = t.taskApiService;
  apiService.metadata = meta(apiService.metadata);
  if (apiService.spec) apiService.spec.selector = { ...apiService.spec.selector, [RUN_LABEL]: run.runId };

  const deployment = t.taskApiDeployment;
  deployment.metadata = meta(deployment.metadata);
  if (deployment.spec) {
    deployment.spec.replicas = d.replicas;
    runSelector(deployment.spec.selector);
    pod(deployment.spec.template);
    const spec = deployment.spec.template.spec;
    if (spec) {
      spec.terminationGracePeriodSeconds = Math.ceil(d.terminationGracePeriodMs / 1000);
      for (const c of spec.containers) taskApiContainer(c, d);
    }
  }

  const obj = (o: unknown): KubeObject => o as KubeObject;
  return [
    { step: 'postgres', objects: [obj(secret), obj(pgService), obj(sts)], waitFor: { kind: 'StatefulSet', name: sts.metadata?.name ?? 'postgres' } },
    { step: 'seed', objects: [obj(seed)], waitFor: { kind: 'Job', name: seed.metadata?.name ?? 'task-api-seed' } },
    { step: 'task-api', objects: [obj(apiService), obj(deployment)], waitFor: { kind: 'Deployment', name: deployment.metadata?.name ?? 'task-api' } },
  ];
}

/** Every object of a deploy, in apply order. */
export function workloadObjects(k: KubernetesPlatformPlan, run: RunInput, templates?: WorkloadTemplates): KubeObject[] {
  return workloadSteps(k, run, templates).flatMap((s) => s.objects);
}

function taskApiContainer(c: V1Container, d: KubeDeployWorkload): void {
  c.image = d.image;
  setEnv(c, 'POOL_SIZE', String(d.pool.size));
  setEnv(c, 'POOL_ACQUIRE_TIMEOUT_MS', String(d.pool.acquireTimeoutMs));
  setEnv(c, 'STATEMENT_TIMEOUT_MS', String(d.pool.statementTimeoutMs));
  if (d.faultInjection.length > 0) setEnv(c, 'FAULT_INJECTION', d.faultInjection.join(','));
}

/** Sets a plain variable in place (keeping its position), or appends it. */
function setEnv(c: V1Container, name: string, value: string): void {
  const env: V1EnvVar[] = (c.env ??= []);
  const at = env.findIndex((e) => e.name === name);
  if (at >= 0) env[at] = { name, value };
  else env.push({ name, value });
}
