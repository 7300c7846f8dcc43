import { formatMs } from '../core/duration.js';
import { isConformanceMetric } from '../conformance/types.js';
import type { CheckPlan, MetricName, MetricUnit, Plan } from '../scenario/plan.js';
import { METRIC_UNITS } from '../scenario/target.js';
import { selectPhases, selectRequest } from '../timeline/merge.js';
import type { Selection } from '../timeline/merge.js';
import type { OutcomeCounts } from '../timeline/types.js';
import { drillMetric, isDrillMetric } from './dr-metrics.js';
import { durabilityMetric, resourceMetric } from './resource-metrics.js';
import { takesReplicasOut } from './rto.js';
import type { FaultRto, RunFacts } from './types.js';

/** A metric's value for one check; `actual` null means it could not be measured. */
export interface Measurement {
  actual: number | null;
  unit: MetricUnit;
  detail?: string;
  /** See CheckResult.notEvaluated / shown. */
  notEvaluated?: string;
  shown?: string;
  expected?: string;
}

export { METRIC_UNITS };

export function measure(check: CheckPlan, plan: Plan, facts: RunFacts): Measurement {
  const unit = METRIC_UNITS[check.metric];
  if (check.metric === 'rto.platform' || check.metric === 'rto.client') {
    const faults = check.fault ? plan.faults.filter((f) => f.name === check.fault) : plan.faults;
    return { unit, ...rtoOf({ faults }, facts.rtos, check.metric === 'rto.platform' ? 'platform' : 'client') };
  }
  if (check.metric === 'resources.recoveryTime' || check.metric === 'resources.leaked') return { unit, ...resourceMetric(check, plan, facts) };
  if (isDrillMetric(check.metric)) return { unit, ...drillMetric(check, plan, facts) };
  if (check.metric === 'durability.lostWrites') return { unit, ...durabilityMetric(facts) };
  if (isConformanceMetric(check.metric)) {
    const f = facts.conformance?.get(check.metric);
    return f ? { unit, ...f } : { unit, actual: null, detail: 'not evaluated: the run read no manifests or cluster for conformance' };
  }
  if (check.metric === 'promql') return { unit, ...(facts.promql?.get(check.id) ?? { actual: null, detail: 'no data: the query was not evaluated (no Prometheus)' }) };
  const during = (check.during.join('+') || 'the run') + (check.fault ? ` of ${check.fault}` : '');
  if (check.request === undefined) return { unit, ...requestMetric(check.metric, selectPhases(facts.timeline, check.during, check.fault), during) };
  // Validation knows the workload's names; a run recorded without them cannot be judged per request.
  const sel = selectRequest(facts.timeline, check.request, check.during, check.fault);
  if (!sel) return { unit, actual: null, detail: `no figures recorded for request ${check.request}` };
  return { unit, ...requestMetric(check.metric, sel, `${during} for ${check.request}`) };
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

function requestMetric(metric: MetricName, sel: Selection, during: string): Value {
  switch (metric) {
    case 'requests.status5xx':
      // Literal 5xx, as the spec's PromQL counts them; failures of other kinds are named beside it.
      return otherFailures(sel) > 0 ? { actual: sel.status5xx, detail: failureBreakdown(sel) } : { actual: sel.status5xx };
    case 'requests.transportErrors':
      return { actual: sel.transportErrors.total };
    case 'requests.dropped':
      return { actual: sel.dropped };
    case 'requests.unexpected':
      return { actual: sel.unexpected };
    case 'requests.failures':
      return { actual: sel.failures, detail: failureBreakdown(sel) };
    case 'requests.failureRatio':
      return sel.arrivals === 0
        ? { actual: null, detail: `no arrival during ${during}` }
        : { actual: sel.failures / sel.arrivals, detail: `${failureBreakdown(sel)} of ${sel.arrivals} arrivals` };
    case 'throughput.rps':
      return sel.durationMs <= 0 ? { actual: null, detail: `no time in ${during}` } : { actual: sel.responses / (sel.durationMs / 1000) };
    default:
      return latencyMetric(metric, sel, during);
  }
}

function otherFailures(c: OutcomeCounts): number {
  return c.transportErrors.total + c.dropped;
}

const TRANSPORT_WORDS: Record<string, [string, string]> = {
  refused: ['connection refused', 'connections refused'],
  reset: ['connection reset', 'connection resets'],
  timeout: ['timeout', 'timeouts'],
  closed: ['connection closed', 'connections closed'],
  other: ['other transport error', 'other transport errors'],
  tls: ['TLS handshake failure', 'TLS handshake failures'],
};

/** "0 5xx (1 connection reset, 3 dropped)": every way a client was not served, by kind. */
export function failureBreakdown(c: OutcomeCounts): string {
  const parts: string[] = [];
  for (const [kind, [one, many]] of Object.entries(TRANSPORT_WORDS)) {
    const n = c.transportErrors[kind as keyof typeof c.transportErrors];
    if (n > 0) parts.push(`${n} ${n === 1 ? one : many}`);
  }
  if (c.dropped > 0) parts.push(`${c.dropped} dropped (never sent: maxInFlight reached)`);
  return `${c.status5xx} 5xx` + (parts.length ? ` (${parts.join(', ')})` : '');
}

function latencyMetric(metric: MetricName, sel: Selection, during: string): Value {
  const value =
    metric === 'latency.p50' ? sel.p50Ms : metric === 'latency.p95' ? sel.p95Ms : metric === 'latency.p99' ? sel.p99Ms : sel.maxMs;
  if (value === null) return { actual: null, detail: `no outcome during ${during}` };
  const notes = [`over ${sel.count} outcomes (responses of any status and transport errors, timeouts at their elapsed time${sel.dropped ? `; ${sel.dropped} dropped arrivals have no latency` : ''})`];
  if (sel.clamped > 0) notes.push(`${sel.clamped} above the histogram range were clamped`);
  return { actual: value, detail: notes.join('; ') };
}
