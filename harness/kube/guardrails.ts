import type { FaultPlan } from '../scenario/plan.js';
import type { KubeGuard } from './plan.js';
import type { KubeObject } from './types.js';

/**
 * The seed's safety rules for chaos on a cluster (staging only, mode one, bounded duration), as
 * pure checks: validation refuses a scenario that breaks them (exit 2, nothing applied), the
 * runtime checks the namespace's labels before applying, and a review can check any chaos object.
 */

/** Namespaces a Game Day may touch when the scenario names none: staging and gameday's own. */
export const DEFAULT_ALLOW_NAMESPACES: readonly string[] = ['staging', 'staging-*', '*-staging', 'gameday', 'gameday-*'];

/** The most of a workload's pods a chaos object may select without --allow-mode-all. */
export const MAX_PERCENT_WITHOUT_FLAG = 50;

const ALLOW_PRODUCTION = 'pass --allow-production to run there anyway';
const ALLOW_MODE_ALL = 'pass --allow-mode-all to select more';

/** A name against an allowlist entry: exact, or with `*` standing for any run of characters. */
export function namespaceMatches(namespace: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(namespace);
}

/** Whether the name says production: `production` or `prod` as a whole dash-separated word. */
export function isProductionName(namespace: string): boolean {
  return namespace.split('-').some((w) => w === 'production' || w === 'prod');
}

/** The first label that says production (a value `production` or `prod`, or a key `production`), as key=value. */
export function productionLabel(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const v = value.toLowerCase();
    if (v === 'production' || v === 'prod' || key === 'production') return `${key}=${value}`;
  }
  return undefined;
}

export interface GuardProblem {
  path: string;
  expected: string;
  found: string;
}

/** The namespace against the allowlist and the production rule (its name; labels are read at run time). */
export function namespaceProblems(namespace: string, guard: KubeGuard, path: string): GuardProblem[] {
  const problems: GuardProblem[] = [];
  if (!guard.allowNamespaces.some((p) => namespaceMatches(namespace, p))) {
    problems.push({ path, expected: `a namespace in the allowlist (spec.platform.kubernetes.allowNamespaces or --allow-namespace: ${guard.allowNamespaces.join(', ')})`, found: `"${namespace}"` });
  }
  if (isProductionName(namespace) && !guard.allowProduction) {
    problems.push({ path, expected: `a namespace that is not production (its name says production; ${ALLOW_PRODUCTION})`, found: `"${namespace}"` });
  }
  return problems;
}

/**
 * The namespace's labels as the cluster has them: a refusal message when one says production and
 * --allow-production was not given (the runtime reads the Namespace before applying anything).
 */
export function namespaceLabelRefusal(namespace: string, labels: Readonly<Record<string, string>> | undefined, guard: KubeGuard): string | undefined {
  const label = productionLabel(labels);
  if (!label || guard.allowProduction) return undefined;
  return `namespace "${namespace}" is labelled ${label}: gameday does not run chaos in production (${ALLOW_PRODUCTION})`;
}

/** A selection mode against the guardrail: mode all, or fixed-percent above 50, only with --allow-mode-all. */
export function selectionProblems(mode: string, value: number | undefined, guard: KubeGuard, path: string): GuardProblem[] {
  if (guard.allowModeAll) return [];
  if (mode === 'all') {
    return [{ path: `${path}.mode`, expected: `mode "one", "fixed", or "fixed-percent" up to ${MAX_PERCENT_WITHOUT_FLAG} on a cluster (mode "all" selects every pod at once; ${ALLOW_MODE_ALL})`, found: '"all"' }];
  }
  if (mode === 'fixed-percent' && value !== undefined && value > MAX_PERCENT_WITHOUT_FLAG) {
    return [{ path: `${path}.value`, expected: `at most ${MAX_PERCENT_WITHOUT_FLAG} with mode "fixed-percent" on a cluster (${ALLOW_MODE_ALL})`, found: `"${value}"` }];
  }
  return [];
}

/**
 * The scenario's faults against the guardrails: the pods a pod-kill or a leak selects. A
 * network-delay delays the whole path replicas → PostgreSQL and kills nothing; every fault's
 * duration is bounded by the scenario schema (1 s to 24 h) and carried by its object.
 */
export function faultProblems(faults: readonly FaultPlan[], guard: KubeGuard): GuardProblem[] {
  return faults.flatMap((f, i) => {
    const path = `spec.faults[${i}]`;
    if (f.kind === 'pod-kill') return selectionProblems(f.mode, f.value, guard, path);
    if (f.kind === 'pool-exhaustion' && f.mode === 'leak') return selectionProblems(f.replicas.mode, f.replicas.value, guard, `${path}.replicas`);
    return [];
  });
}

/**
 * Any chaos object (generated, or found in manifests or on a cluster) against the seed's safety
 * review: an allowed namespace that is not production, a bounded duration, and a pod selection
 * within the guardrail. Each problem is one sentence naming the object.
 */
export function chaosObjectProblems(obj: KubeObject, guard: KubeGuard): string[] {
  const spec = (obj['spec'] ?? {}) as { mode?: string; value?: string; duration?: string; action?: string; selector?: { namespaces?: string[] } };
  const name = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
  const problems: string[] = [];
  const namespaces = spec.selector?.namespaces ?? (obj.metadata.namespace ? [obj.metadata.namespace] : []);
  if (namespaces.length === 0) problems.push(`${name}: selects pods in every namespace (no selector.namespaces)`);
  for (const ns of namespaces) for (const p of namespaceProblems(ns, guard, 'selector.namespaces')) problems.push(`${name}: targets namespace "${ns}": expected ${p.expected}`);
  if (!spec.duration) problems.push(`${name}: no duration (every fault must be bounded)`);
  const exempt = obj.kind === 'NetworkChaos' && spec.action === 'delay';
  if (!exempt && spec.mode) {
    for (const p of selectionProblems(spec.mode, spec.value === undefined ? undefined : Number(spec.value), guard, 'spec')) problems.push(`${name}: ${p.path} ${p.found}: expected ${p.expected}`);
  }
  return problems;
}
