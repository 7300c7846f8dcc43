import { DEFAULT_ALLOW_NAMESPACES } from '../kube/guardrails.js';
import type { KubeGuard } from '../kube/plan.js';

/** The conformance metrics (the seed's SC-001..SC-006 and its chaos safety review). */
export const CONFORMANCE_METRICS = [
  'conformance.costLabels',
  'conformance.costVisibility',
  'conformance.rightSizing',
  'conformance.backupSchedule',
  'conformance.backupRetention',
  'conformance.backupHook',
  'conformance.chaosSafety',
] as const;
export type ConformanceMetric = (typeof CONFORMANCE_METRICS)[number];

export function isConformanceMetric(metric: string): metric is ConformanceMetric {
  return (CONFORMANCE_METRICS as readonly string[]).includes(metric);
}

/**
 * One conformance metric's outcome. `actual` is the number of problems found (a check's target is
 * "== 0"); null when it could not be judged: `notEvaluated` says why when nothing was wrong but a
 * part of the criterion needs what is not there (OpenCost, a live VPA), `environment` when the
 * cluster or OpenCost could not be read.
 */
export interface Finding {
  actual: number | null;
  /** Every problem, one sentence each naming the object and its source; or what was verified. */
  detail: string;
  /** The value a summary row shows ("4 labels", "0 2 * * *", "720h"). */
  shown: string;
  notEvaluated?: string;
  environment?: boolean;
  /** What the criterion asks, in words (set by evaluateConformance). */
  expected?: string;
}

export type Findings = ReadonlyMap<ConformanceMetric, Finding>;

/** What the checks expect (the seed's values by default) and where they look. */
export interface ConformancePlan {
  /** static: manifest files; live: the cluster (kubeconfig like kubectl). */
  mode: 'static' | 'live';
  /** Static: files and directories (absolute), read in order. */
  manifests: string[];
  /** The workload's namespace (static default: the Deployment's own). */
  namespace?: string;
  context?: string;
  /** The Deployment whose pods carry the cost labels and that the VPA targets. */
  deployment: string;
  /** Cost allocation labels and their values. */
  labels: Record<string, string>;
  /** The labels of the PostgreSQL pods the pre hook must select. */
  databaseLabels: Record<string, string>;
  backup: { schedule: string; ttl: string; excludedResources: string[]; veleroNamespace: string };
  /** The OpenCost API (its port-forward): http://127.0.0.1:9003. */
  opencost?: { url: string; window: string };
  /** Namespaces listed for chaos objects on a cluster (besides the workload's). */
  chaosNamespaces: string[];
  guard: KubeGuard;
}

export const SEED_LABELS: Readonly<Record<string, string>> = { team: 'product-team', app: 'task-api', environment: 'production', 'cost-center': 'engineering' };

/** The seed's values, for `gameday verify` and a scenario's spec.conformance defaults. */
export function defaultConformancePlan(over: Partial<ConformancePlan> = {}): ConformancePlan {
  return {
    mode: 'static',
    manifests: [],
    deployment: 'task-api',
    labels: { ...SEED_LABELS },
    databaseLabels: { app: 'postgres' },
    backup: { schedule: '0 2 * * *', ttl: '720h', excludedResources: ['events', 'pods', 'replicasets'], veleroNamespace: 'velero' },
    chaosNamespaces: ['chaos-mesh'],
    guard: { allowNamespaces: [...DEFAULT_ALLOW_NAMESPACES], allowProduction: false, allowModeAll: false },
    ...over,
  };
}

/** The checks `gameday verify` prints and scenarios name: the seed's ids and criteria. */
export const CONFORMANCE_CHECKS: readonly { id: string; name: string; metric: ConformanceMetric }[] = [
  { id: 'SC-001', name: 'Cost labels present', metric: 'conformance.costLabels' },
  { id: 'SC-002', name: 'OpenCost query by team', metric: 'conformance.costVisibility' },
  { id: 'SC-003', name: 'VPA recommendations', metric: 'conformance.rightSizing' },
  { id: 'SC-004', name: 'Velero schedule daily', metric: 'conformance.backupSchedule' },
  { id: 'SC-005', name: '30-day retention', metric: 'conformance.backupRetention' },
  { id: 'SC-006', name: 'Pre-backup hook success', metric: 'conformance.backupHook' },
  { id: 'CHAOS-SAFETY', name: 'Chaos safety review', metric: 'conformance.chaosSafety' },
];

/** What each criterion asks, in words, for its row's Target. */
export function expectedText(metric: ConformanceMetric, plan: ConformancePlan, namespace: string): string {
  switch (metric) {
    case 'conformance.costLabels':
      return `${Object.keys(plan.labels).length} labels (${Object.keys(plan.labels).join(', ')}) on every pod`;
    case 'conformance.costVisibility':
      return `returns data for team ${plan.labels['team'] ?? '?'}`;
    case 'conformance.rightSizing':
      return `updateMode "Off", bounds; a recommendation within 24h`;
    case 'conformance.backupSchedule':
      return `"${plan.backup.schedule}" covering ${namespace}`;
    case 'conformance.backupRetention':
      return `ttl ${plan.backup.ttl}`;
    case 'conformance.backupHook':
      return 'pre hook CHECKPOINT + pg_dump, onError: Fail';
    case 'conformance.chaosSafety':
      return 'allowed namespace, not production, mode one (never all), bounded';
  }
}
