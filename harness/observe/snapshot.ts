import { ActivityProbe, type DatabaseActivity } from './pg-activity.js';
import { POOL_GAUGES } from './prometheus.js';
import { probeReplica, type ReplicaResources, type ReplicaTarget } from './replica-probe.js';
import { errorMessage } from './timeout.js';

/**
 * A forensic snapshot of resource state, taken on demand just before a destructive fault: what
 * each replica held and what the database saw, so the incident timeline says what was lost.
 */
export interface ResourceSnapshot {
  replicas: ReplicaResources[];
  database: DatabaseActivity | { error: string };
}

/** Probes every replica and the database side by side, each bounded by `timeoutMs`; never throws. */
export async function collectSnapshot<T extends { name: string } = ReplicaTarget>(
  replicas: readonly T[],
  activity: ActivityProbe,
  timeoutMs: number,
  probe: (replica: T, timeoutMs: number) => Promise<ReplicaResources> = (r, t) => probeReplica(r as ReplicaTarget, t),
): Promise<ResourceSnapshot> {
  const [database, ...resources] = await Promise.all([
    activity.read().catch((err: unknown) => ({ error: errorMessage(err) })),
    ...replicas.map((r) => probe(r, timeoutMs)),
  ]);
  return { replicas: resources as ReplicaResources[], database: database as ResourceSnapshot['database'] };
}

/** A snapshot on a connection of its own, closed afterwards (when no sampler is running). */
export async function takeResourceSnapshot(replicas: readonly ReplicaTarget[], databaseUrl: string, timeoutMs = 2000): Promise<ResourceSnapshot> {
  const activity = new ActivityProbe(databaseUrl, timeoutMs);
  try {
    return await collectSnapshot(replicas, activity, timeoutMs);
  } finally {
    await activity.close();
  }
}

type Detail = Record<string, string | number | boolean | null>;

/**
 * The snapshot as one flat journal detail: `<replica>.rss_bytes`, `<replica>.db_pool_active`,
 * `db.total`, `db.app.<name>`, `db.state.<state>`; a failed probe appears as `<...>.error`.
 */
export function snapshotDetail(snapshot: ResourceSnapshot): Detail {
  const detail: Detail = {};
  for (const r of snapshot.replicas) {
    detail[`${r.name}.pid`] = r.pid;
    detail[`${r.name}.rss_bytes`] = r.rssBytes;
    detail[`${r.name}.open_fds`] = r.openFds;
    for (const gauge of POOL_GAUGES) detail[`${r.name}.${gauge}`] = r.pool?.[gauge] ?? null;
    for (const [probe, error] of Object.entries(r.errors)) detail[`${r.name}.${probe}.error`] = error;
  }
  const db = snapshot.database;
  if ('error' in db) {
    detail['db.error'] = db.error;
    return detail;
  }
  detail['db.total'] = db.total;
  for (const [app, n] of Object.entries(db.byApplication)) detail[`db.app.${app || '(none)'}`] = n;
  for (const [state, n] of Object.entries(db.byState)) detail[`db.state.${state || '(none)'}`] = n;
  return detail;
}
