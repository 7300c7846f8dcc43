import { formatMs } from '../core/duration.js';
import type { CheckPlan, MetricName, MetricUnit, Plan } from '../scenario/plan.js';
import { METRIC_UNITS } from '../scenario/target.js';
import { selectPhases } from '../timeline/merge.js';
import type { PhaseSelection } from '../timeline/merge.js';
import { durabilityMetric, resourceMetric } from './resource-metrics.js';
import { takesReplicasOut } from './rto.js';
import type { FaultRto, RunFacts } from './types.js';

/** A metric's value for one check; `actual` null means it could not be measured. */
export interface Measurement {
  actual: number | null;
  unit: MetricUnit;
  detail?: string;
}

export { METRIC_UNITS };

export function measure(check: CheckPlan, plan: Plan, facts: RunFacts): Measurement {
  const unit = METRIC_UNITS[check.metric];
  if (check.metric === 'rto.platform' || check.metric === 'rto.client') {
    const faults = check.fault ? plan.faults.filter((f) => f.name === check.fault) : plan.faults;
    return { unit, ...rtoOf({ faults }, facts.rtos, check.metric === 'rto.platform' ? 'platform' : 'client') };
  }
  if (check.metric === 'resources.recoveryTime' || check.metric === 'resources.leaked') return { unit, ...resourceMetric(check, plan, facts) };
  if (check.metric === 'durability.lostWrites') return { unit, ...durabilityMetric(facts) };
  const sel = selectPhases(facts.timeline, check.during, check.fault);
  const during = (check.during.join('+') || 'the run') + (check.fault ? ` of ${check.fault}` : '');
  return { unit, ...requestMetric(check.metric, sel, during) };
}

type Value = { actual: number | null; detail?: string };

/**
 * The worst RTO over the scenario's faults. Not applicable without faults: reported as
 * unmeasured (so the check fails) rather than passed, since the check cannot have held.
 */
export function rtoOf(plan: Pick<Plan, 'faults'>, rtos: readonly FaultRto[], side: 'platform' | 'client'): Value {
  if (plan.faults.length === 0) return { actual: null, detail: 'no fault in scenario' };
  // A platform RTO exists only for faults that take replicas out; a slow database has none.
  const faults = side === 'platform' ? plan.faults.filter(takesReplicasOut) : plan.faults;
  if (faults.length === 0) return { actual: null, detail: 'no fault here takes a replica out' };
  const values: number[] = [];
  const notes: string[] = [];
  for (const fault of faults) {
    const rto = rtos.find((r) => r.fault === fault.name);
    const one = rto?.[side];
    if (!one) notes.push(`${fault.name}: not measured`);
    else if (one.rtoMs === null) notes.push(`${fault.name}: ${one.reason ?? 'not recovered'}`);
    else {
      values.push(one.rtoMs);
      const unconfirmed = 'sustainConfirmed' in one && !one.sustainConfirmed;
      notes.push(`${fault.name}: ${formatMs(one.rtoMs)}${unconfirmed ? ' (run ended before the sustain period)' : ''}`);
    }
  }
  const detail = notes.join('; ');
  if (values.length < faults.length) return { actual: null, detail };
  return { actual: Math.max(...values), detail };
}

function requestMetric(metric: MetricName, sel: PhaseSelection, during: string): Value {
  switch (metric) {
    case 'requests.status5xx':
      return { actual: sel.status5xx };
    case 'requests.transportErrors':
      return { actual: sel.transportErrors.total };
    case 'requests.failures':
      return { actual: sel.failures };
    case 'requests.failureRatio':
      return sel.count === 0 ? { actual: null, detail: `no outcome during ${during}` } : { actual: sel.failures / sel.count };
    case 'throughput.rps':
      return sel.durationMs <= 0 ? { actual: null, detail: `no time in ${during}` } : { actual: sel.responses / (sel.durationMs / 1000) };
    default:
      return latencyMetric(metric, sel, during);
  }
}

function latencyMetric(metric: MetricName, sel: PhaseSelection, during: string): Value {
  const value =
    metric === 'latency.p50' ? sel.p50Ms : metric === 'latency.p95' ? sel.p95Ms : metric === 'latency.p99' ? sel.p99Ms : sel.maxMs;
  if (value === null) return { actual: null, detail: `no response during ${during}` };
  return sel.clamped > 0 ? { actual: value, detail: `${sel.clamped} responses above the histogram range were clamped` } : { actual: value };
}
