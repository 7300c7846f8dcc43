import type { Plan } from '../scenario/plan.js';
import { CONFORMANCE_METRICS, type ConformanceMetric, type Finding } from './types.js';

/**
 * The conformance findings of a Game Day run (its spec.conformance), read while the workload is
 * deployed. Never throws: a cluster or manifests that cannot be read make every conformance check
 * unmeasured, with the reason.
 */
export async function conformanceFacts(plan: Plan, signal?: AbortSignal): Promise<ReadonlyMap<ConformanceMetric, Finding> | undefined> {
  if (!plan.conformance) return undefined;
  try {
    const { evaluateConformance } = await import('./index.js');
    return (await evaluateConformance(plan.conformance, { ...(signal ? { signal } : {}) })).findings;
  } catch (err) {
    const detail = `conformance not read: ${(err as Error).message}`;
    return new Map(CONFORMANCE_METRICS.map((m) => [m, { actual: null, detail, shown: 'not read', environment: true }]));
  }
}
