import type { ResourceRecovery } from '../../timeline/resource-recovery.js';
import type { ResultDocument } from '../result.js';
import type { PointValue } from './points.js';

/** A resource that stayed below its baseline (a replacement's pool not grown back yet) holds nothing: not a leak. */
function belowBaseline(r: ResourceRecovery): boolean {
  return r.peak !== null && r.baseline !== null && r.peak < r.baseline;
}

/** From the end of `fault` to the end of the run: all a leak's recovery time is known to exceed. */
function observedAfter(doc: ResultDocument, fault: string): number {
  const end = doc.phases.find((p) => p.span.phase === 'fault' && p.span.fault === fault)?.span.endMs ?? 0;
  const runEnd = doc.phases.at(-1)?.span.endMs ?? end;
  return Math.max(0, runEnd - end);
}

function recoveryOf(doc: ResultDocument, fault: string, r: ResourceRecovery): number | undefined {
  if (r.replica !== 'total') return undefined;
  if (r.status === 'recovered') return r.recoveryMs ?? undefined;
  if (r.status === 'leaked' && !belowBaseline(r)) return observedAfter(doc, fault);
  return undefined;
}

/**
 * The slowest resource recovery of a run (ms) over every fault and resource, judged on the sums
 * over replicas (`total`: a replaced replica's own series ends early) and only where the outcome
 * says something. A leak (never back within tolerance) counts as the time observed after the fault
 * — a lower bound, so that a leak in a short A/A run whose pool merely grew (the leak detector's
 * noise) is not a regression, while a resource still off after a long run is. Undefined when the
 * run sampled no resources.
 */
export function resourceRecoveryMs(doc: ResultDocument): PointValue {
  const times = (doc.resources?.recovery ?? []).flatMap((f) => f.recoveries.map((r) => recoveryOf(doc, f.fault, r))).filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.max(...times);
}
