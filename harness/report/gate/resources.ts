import type { ResultDocument } from '../result.js';
import type { PointValue } from './points.js';

/**
 * The slowest resource recovery of a run (ms) over every fault and resource, judged on the sums
 * over replicas (`total`: a replaced replica's own series ends early) and only where the outcome
 * says something (`recovered`, or `leaked` → null: it never came back). Undefined when the run
 * sampled no resources.
 */
export function resourceRecoveryMs(doc: ResultDocument): PointValue {
  const judged = (doc.resources?.recovery ?? []).flatMap((f) => f.recoveries).filter((r) => r.replica === 'total' && (r.status === 'recovered' || r.status === 'leaked'));
  if (judged.length === 0) return undefined;
  if (judged.some((r) => r.status === 'leaked' || r.recoveryMs === null)) return null;
  return Math.max(...judged.map((r) => r.recoveryMs as number));
}
