import type { Clock } from '../core/clock.js';
import type { EventSink } from '../core/journal.js';
import type { TargetAccess } from '../load/loopback.js';
import type { LoadSummary } from '../load/types.js';
import type { WorkloadPlan } from '../load/workload-plan.js';
import { verifyWrites, type DurabilityReport } from '../observe/durability.js';
import { readBackWrites } from '../observe/read-back.js';
import { ResourceSampler } from '../observe/resources.js';
import { snapshotDetail } from '../observe/snapshot.js';
import type { Deployment, ReplicaStatus } from '../platform/types.js';

/** The run's resource sampler: the deployment's replicas, probed through the platform. */
export type Sampler = ResourceSampler<ReplicaStatus>;

/** Resource sampling runs where the platform can probe its replicas' resources and the harness reaches the database. */
export function startSampler(deployment: Deployment, clock: Clock, journal: EventSink): Sampler | undefined {
  const { databaseUrl, resources } = deployment;
  if (!resources || !databaseUrl) return undefined;
  let reported = 0;
  const sampler = new ResourceSampler<ReplicaStatus>({
    replicas: () => deployment.replicas(),
    probe: (r, timeoutMs) => resources.probe(r.name, timeoutMs),
    databaseUrl,
    clock,
    // A replica that just died fails its probes; journal the first few failures, not a flood.
    onProbeFailure: (f) => {
      if (reported++ < 20) journal.record({ source: 'harness', type: 'observe.probe-failed', ...(f.replica ? { target: f.replica } : {}), detail: { probe: f.probe, error: f.error } });
    },
  });
  sampler.start();
  return sampler;
}

/** The state of every resource just before a destructive fault: the incident's "before" picture. */
export async function forensicSnapshot(sampler: Sampler, fault: string, journal: EventSink): Promise<void> {
  const snapshot = await sampler.snapshot();
  journal.record({ source: 'harness', type: 'fault.snapshot', fault, detail: snapshotDetail(snapshot) });
}

/** Every write acknowledged with 2xx, checked against the database before it is torn down. */
export async function verifyDurability(deployment: Deployment, load: LoadSummary, journal: EventSink): Promise<DurabilityReport | undefined> {
  if (!deployment.databaseUrl) return undefined;
  const report = await verifyWrites(deployment.databaseUrl, load.acknowledgedWrites);
  journal.record({ source: 'harness', type: 'durability.verified', detail: { checked: report.checked, lost: report.lostTotal } });
  return report;
}

/** Any service: every entity an acknowledged write touched, read back over HTTP (requests with write.read). */
export async function readBackDurability(
  workload: WorkloadPlan,
  serviceUrl: string,
  access: TargetAccess,
  load: LoadSummary,
  journal: EventSink,
  signal: AbortSignal,
): Promise<DurabilityReport | undefined> {
  if (!workload.requests.some((r) => r.write?.read !== undefined)) return undefined;
  const report = await readBackWrites(serviceUrl, access, workload, load.acknowledgedWrites, { signal });
  journal.record({ source: 'harness', type: 'durability.verified', detail: { by: 'read-back', checked: report.checked, lost: report.lostTotal, unread: report.unread ?? 0 } });
  return report;
}
