import { formatMs } from '../core/duration.js';
import type { CheckPlan, Plan } from '../scenario/plan.js';
import type { ResourceRecovery } from '../timeline/resource-recovery.js';
import type { RunFacts } from './types.js';

type Value = { actual: number | null; detail?: string };

/** The sums over replicas (`total`) for the check's fault (or every fault) and resource (or every resource). */
function recoveriesFor(check: CheckPlan, plan: Pick<Plan, 'faults'>, facts: RunFacts): ResourceRecovery[] | undefined {
  if (!facts.resources) return undefined;
  const faults = check.fault ? [check.fault] : plan.faults.map((f) => f.name);
  return facts.resources
    .filter((r) => faults.includes(r.fault))
    .flatMap((r) => r.recoveries)
    .filter((r) => r.replica === 'total' && (check.resource === undefined || r.resource === check.resource) && r.status !== 'no-baseline' && r.status !== 'no-data');
}

/**
 * resources.recoveryTime: the slowest fault end → back-within-tolerance over the judged resources;
 * unmeasured (the check fails) when one never came back. resources.leaked: how many never came back.
 */
export function resourceMetric(check: CheckPlan, plan: Pick<Plan, 'faults'>, facts: RunFacts): Value {
  const recoveries = recoveriesFor(check, plan, facts);
  if (!recoveries) return { actual: null, detail: 'no resources were sampled in this run' };
  if (recoveries.length === 0) return { actual: null, detail: `no samples of ${check.resource ?? 'any resource'} around the fault` };
  const leaked = recoveries.filter((r) => r.leaked);
  const names = (rs: ResourceRecovery[]): string => rs.map((r) => r.resource).join(', ');
  if (check.metric === 'resources.leaked') {
    return { actual: leaked.length, ...(leaked.length ? { detail: `never back to baseline: ${names(leaked)}` } : {}) };
  }
  if (leaked.length > 0) return { actual: null, detail: `never back to baseline: ${names(leaked)}` };
  const slowest = recoveries.reduce((a, b) => ((b.recoveryMs ?? 0) > (a.recoveryMs ?? 0) ? b : a));
  return { actual: slowest.recoveryMs ?? 0, detail: `slowest: ${slowest.resource} (${formatMs(slowest.recoveryMs ?? 0)})` };
}

export function durabilityMetric(facts: RunFacts): Value {
  if (!facts.durability) return { actual: null, detail: 'acknowledged writes were not verified in this run' };
  const { checked, lostTotal, unread } = facts.durability;
  const skipped = unread ? `; ${unread} not read (the cap on entities or the time limit)` : '';
  return { actual: lostTotal, detail: `${checked} written ${unread === undefined ? 'tasks' : 'entities'} checked${skipped}` };
}
