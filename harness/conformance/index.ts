import { relative } from 'node:path';
import { InputError } from '../core/errors.js';
import { workloadNamespace, backupHook, backupRetention, backupSchedule, chaosSafety, costLabels, rightSizing, type Inventory } from './checks.js';
import { readManifestObjects, type FoundObject } from './manifests.js';
import { costVisibility } from './opencost.js';
import { expectedText, type ConformanceMetric, type ConformancePlan, type Finding } from './types.js';

export * from './types.js';
export { readManifestObjects, type FoundObject } from './manifests.js';
export type { Inventory } from './checks.js';

export interface ConformanceOutcome {
  findings: Map<ConformanceMetric, Finding>;
  /** Where the objects were read: the manifests or the cluster's context. */
  source: string;
  /** The namespace the criteria were judged for. */
  namespace: string;
}

/** Static mode's inventory: every object of the manifests; unreadable or malformed ones are bad input (exit 2). */
export function staticInventory(plan: ConformancePlan, base = process.cwd()): Inventory {
  const { objects, problems } = readManifestObjects(plan.manifests, base);
  if (problems.length > 0) throw new InputError(problems);
  return { mode: 'static', objects, source: plan.manifests.map((p) => (relative(base, p).startsWith('..') ? p : relative(base, p) || '.')).join(', ') };
}

/** Every conformance metric's finding, from the manifests (static) or the cluster (live). */
export async function evaluateConformance(plan: ConformancePlan, opts: { signal?: AbortSignal; generated?: readonly FoundObject[]; base?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ConformanceOutcome> {
  let inventory: Inventory;
  let namespace: string | undefined = plan.namespace;
  if (plan.mode === 'live') {
    const { readLiveInventory } = await import('./live.js');
    const live = await readLiveInventory(plan, opts.env);
    inventory = live.inventory;
    namespace = live.namespace;
  } else inventory = staticInventory(plan, opts.base);
  const judged = { ...plan, ...(namespace ? { namespace } : {}) };
  const findings = new Map<ConformanceMetric, Finding>([
    ['conformance.costLabels', costLabels(inventory, judged)],
    ['conformance.costVisibility', await costVisibility(plan.opencost, plan.labels['team'], opts.signal)],
    ['conformance.rightSizing', rightSizing(inventory, judged)],
    ['conformance.backupSchedule', backupSchedule(inventory, judged)],
    ['conformance.backupRetention', backupRetention(inventory, judged)],
    ['conformance.backupHook', backupHook(inventory, judged)],
    ['conformance.chaosSafety', chaosSafety(inventory, judged, opts.generated)],
  ]);
  const ns = workloadNamespace(inventory, judged);
  for (const [metric, f] of findings) f.expected = expectedText(metric, plan, ns);
  return { findings, source: inventory.source, namespace: ns };
}
