import { countOpenFds, readRssBytes } from './proc.js';
import { readPoolGauges, scrapeMetrics, type PoolGauges } from './prometheus.js';
import { errorMessage, withTimeout } from './timeout.js';

/** A replica the observer looks at; pid and port are unknown until the process runs and listens. */
export interface ReplicaTarget {
  name: string;
  pid?: number;
  port?: number;
}

export type ReplicaProbeName = 'rss' | 'fds' | 'pool';

/** One replica's resources at one instant; a probe that failed leaves its value null. */
export interface ReplicaResources {
  name: string;
  pid: number | null;
  rssBytes: number | null;
  openFds: number | null;
  pool: PoolGauges | null;
  /** Why each failed probe failed (a probe skipped for want of a pid or port is not a failure). */
  errors: Partial<Record<ReplicaProbeName, string>>;
}

/** Runs the three probes side by side, each bounded by `timeoutMs`; never throws. */
export async function probeReplica(replica: ReplicaTarget, timeoutMs: number): Promise<ReplicaResources> {
  const { pid, port } = replica;
  const errors: ReplicaResources['errors'] = {};
  const attempt = async <T>(probe: ReplicaProbeName, run: (() => Promise<T>) | undefined): Promise<T | null> => {
    // Not running or not listening yet: nothing to probe, and nothing failed.
    if (run === undefined) return null;
    try {
      return await withTimeout(run(), timeoutMs, `${probe} probe of ${replica.name}`);
    } catch (err) {
      errors[probe] = errorMessage(err);
      return null;
    }
  };
  const [rssBytes, openFds, pool] = await Promise.all([
    attempt('rss', pid === undefined ? undefined : () => readRssBytes(pid)),
    attempt('fds', pid === undefined ? undefined : () => countOpenFds(pid)),
    attempt('pool', port === undefined ? undefined : async () => readPoolGauges(await scrapeMetrics(port, timeoutMs))),
  ]);
  return { name: replica.name, pid: pid ?? null, rssBytes, openFds, pool, errors };
}
