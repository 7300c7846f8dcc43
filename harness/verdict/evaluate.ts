import type { CheckPlan, Plan } from '../scenario/plan.js';
import { compare } from './compare.js';
import { measure } from './metrics.js';
import type { CheckResult, RunFacts, Verdict } from './types.js';

/**
 * Judges every check of the plan against the facts of a run. A check whose metric could not be
 * measured (null actual) fails with the reason in `detail`. The verdict passes only when every
 * check passed and the run was not aborted (a plan without checks passes vacuously; the scenario
 * validator is where "no checks" should be refused).
 */
export function evaluate(plan: Plan, facts: RunFacts): Verdict {
  const checks = plan.checks.map((check) => evaluateCheck(check, plan, facts));
  // A check not evaluated here (it needs a cluster component) neither holds nor breaks the verdict; reports say so.
  const held = checks.every((c) => c.passed || c.notEvaluated !== undefined);
  const status = facts.aborted ? 'aborted' : held ? 'passed' : 'failed';
  return { status, passed: status === 'passed', checks };
}

export function evaluateCheck(check: CheckPlan, plan: Plan, facts: RunFacts): CheckResult {
  const m = measure(check, plan, facts);
  return {
    id: check.id,
    name: check.name,
    metric: check.metric,
    ...(check.request !== undefined ? { request: check.request } : {}),
    target: check.targetText,
    threshold: check.threshold,
    comparator: check.comparator,
    actual: m.actual,
    unit: m.unit,
    passed: m.actual !== null && compare(m.actual, check.comparator, check.threshold),
    ...(m.detail !== undefined ? { detail: m.detail } : {}),
    ...(m.notEvaluated !== undefined ? { notEvaluated: m.notEvaluated } : {}),
    ...(m.shown !== undefined ? { shown: m.shown } : {}),
    ...(m.expected !== undefined ? { expected: m.expected } : {}),
  };
}
