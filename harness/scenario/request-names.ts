import type { LoadPlan } from '../load/types.js';
import type { RequestSpec } from '../timeline/requests.js';

/**
 * The workload's requests as the load driver numbers them: the index is the `op` every outcome
 * is reported with, the name is what a check's `request:` may name, `expect` the statuses the
 * request counts as expected (absent: any status below 400).
 */
export function workloadRequests(load: Pick<LoadPlan, 'workload'>): RequestSpec[] {
  return load.workload.requests.map((r) => ({ name: r.name, ...(r.expect ? { expectedStatuses: [...r.expect] } : {}) }));
}

/** The names a check's `request:` may take. */
export function workloadRequestNames(load: Pick<LoadPlan, 'workload'>): string[] {
  return workloadRequests(load).map((r) => r.name);
}
