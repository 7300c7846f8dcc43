import type { PointValue } from './points.js';

type Loose = Record<string, unknown>;

const RECOVERY_FIELDS = ['recoveryMs', 'recoveryTimeMs', 'recoveredAfterMs', 'rtoMs'];

function recoveryOf(item: unknown): number | null | undefined {
  if (!item || typeof item !== 'object') return undefined;
  for (const field of RECOVERY_FIELDS) {
    const v = (item as Loose)[field];
    if (typeof v === 'number' || v === null) return v;
  }
  return undefined;
}

/**
 * Entries that say whether a resource came back: sums over replicas (`replica: total`) when the
 * entry names one (a replaced replica's own series ends early), and only `recovered` or `leaked`
 * outcomes (no baseline or no data is no evidence either way).
 */
function judged(item: unknown): boolean {
  const o = (item ?? {}) as Loose;
  const replicaOk = o['replica'] === undefined || o['replica'] === 'total';
  const statusOk = o['status'] === undefined || o['status'] === 'recovered' || o['status'] === 'leaked';
  return replicaOk && statusOk;
}

/**
 * The slowest resource recovery of a run (ms), null when a resource never came back (a leak), or
 * undefined when the result has no resource data. Resource sampling is added to result.json by
 * another stage; this reads `resources.recovery` (an array or a map of per-resource entries with a
 * recovery time) and tolerates its absence.
 */
export function resourceRecoveryMs(doc: unknown): PointValue {
  const resources = (doc as Loose | undefined)?.['resources'];
  const recovery = resources && typeof resources === 'object' ? (resources as Loose)['recovery'] : undefined;
  if (!recovery || typeof recovery !== 'object') return undefined;
  const items = (Array.isArray(recovery) ? recovery : Object.values(recovery)).filter(judged);
  const times = items.map(recoveryOf).filter((v) => v !== undefined);
  if (times.length === 0) return undefined;
  if (times.some((v) => v === null)) return null;
  return Math.max(...(times as number[]));
}
