import type { Clock } from '../core/clock.js';
import type { LoadDriver, LoadObserver, LoadPlan } from './types.js';
import { mixProblems } from './mix.js';
import { createClosedDriver } from './closed-model.js';
import { createOpenDriver } from './open-model.js';
import { RampCurve } from './arrivals.js';
import { createK6Driver } from './k6-driver.js';

/** The load driver for a plan. Throws, listing every problem, if the plan cannot be run. */
export function createLoadDriver(plan: LoadPlan, clock: Clock, observer?: LoadObserver): LoadDriver {
  const problems = loadPlanProblems(plan);
  if (problems.length > 0) throw new Error(`invalid load plan:\n  ${problems.join('\n  ')}`);
  if (plan.k6) return createK6Driver(plan, plan.k6, clock);
  return plan.model === 'closed' ? createClosedDriver(plan, clock) : createOpenDriver(plan, clock, observer);
}

/** Every problem with a load plan, as `path: expected, found`. Empty when it can run. */
export function loadPlanProblems(plan: LoadPlan): string[] {
  const problems = [...mixProblems(plan.workload.requests, 'workload.requests')];
  const check = (path: string, value: number, ok: boolean, expected: string): void => {
    if (!ok) problems.push(`load.${path}: expected ${expected}, found ${String(value)}`);
  };
  const positiveInt = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;
  check('connections', plan.connections, positiveInt(plan.connections), 'an integer >= 1');
  check('timeoutMs', plan.timeoutMs, Number.isFinite(plan.timeoutMs) && plan.timeoutMs >= 1, 'a number of ms >= 1');
  check('seed', plan.seed, Number.isSafeInteger(plan.seed), 'an integer');
  if (plan.model === 'open') {
    check('ratePerSec', plan.ratePerSec, Number.isFinite(plan.ratePerSec) && plan.ratePerSec > 0, 'a rate > 0');
  }
  if (plan.model === 'ramping') problems.push(...rampProblems(plan));
  if (plan.model !== 'closed') check('maxInFlight', plan.maxInFlight, positiveInt(plan.maxInFlight), 'an integer >= 1');
  return problems;
}

/** A ramp must have stages, finite rates ≥ 0 and durations ≥ 0, and plan at least one arrival. */
function rampProblems(plan: Extract<LoadPlan, { model: 'ramping' }>): string[] {
  const problems: string[] = [];
  const rate = (v: number): boolean => Number.isFinite(v) && v >= 0;
  if (!rate(plan.startRatePerSec)) problems.push(`load.startRatePerSec: expected a rate >= 0, found ${String(plan.startRatePerSec)}`);
  if (plan.stages.length === 0) problems.push('load.stages: expected at least one stage, found none');
  plan.stages.forEach((s, i) => {
    if (!rate(s.toPerSec)) problems.push(`load.stages[${i}].toPerSec: expected a rate >= 0, found ${String(s.toPerSec)}`);
    if (!(Number.isFinite(s.overMs) && s.overMs >= 0)) problems.push(`load.stages[${i}].overMs: expected a number of ms >= 0, found ${String(s.overMs)}`);
  });
  if (problems.length === 0) {
    const total = new RampCurve(plan.startRatePerSec, plan.stages).total;
    if (total < 1) problems.push(`load.stages: expected stages that plan at least one arrival, found ${String(total)} expected arrivals`);
  }
  return problems;
}
