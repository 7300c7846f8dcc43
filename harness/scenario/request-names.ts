import type { RequestSpec } from '../timeline/requests.js';

/**
 * The workload as the load driver numbers its requests: today the Task API mix's operations (in
 * mix order), or the workload's named requests with the statuses each expects. Its index is the
 * `op` every outcome is reported with; its names are what a check's `request:` may name.
 */
export interface WorkloadRequestSource {
  mix?: ReadonlyArray<{ op: string }>;
  workload?: { requests: ReadonlyArray<{ name: string; expect?: readonly number[] }> };
}

/** The requests of a load plan, in op order, for the timeline recorder. */
export function workloadRequests(load: WorkloadRequestSource): RequestSpec[] {
  if (load.workload) return load.workload.requests.map((r) => ({ name: r.name, ...(r.expect ? { expectedStatuses: [...r.expect] } : {}) }));
  return (load.mix ?? []).map((e) => ({ name: e.op }));
}

/** The names a check's `request:` may take. */
export function workloadRequestNames(load: WorkloadRequestSource): string[] {
  return workloadRequests(load).map((r) => r.name);
}
