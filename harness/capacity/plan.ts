import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { parseDurationMs } from '../core/duration.js';
import { InputError, type Problem } from '../core/errors.js';
import { DEFAULT_RUN_LIMITS } from '../scenario/limits.js';
import type { FaultPlan, Plan } from '../scenario/plan.js';
import { scenarioSchema } from '../scenario/schema.js';

/** spec.capacity, validated: rates per second, durations in ms, shares as fractions 0–1. */
export interface CapacityPlan {
  startRate: number;
  stepRate: number;
  maxRate: number;
  stepMs: number;
  settleMs: number;
  maxDurationMs: number;
  refine: number;
  slo: { latencyP95Ms: number; failureRatio: number; achievedRatio: number };
  peak?: number;
  /** The scenario's maxInFlight, when it sets one; otherwise each step gets the open model's default rule. */
  maxInFlight?: number;
  variants: { nMinusOne: boolean; faults: FaultPlan[] };
  massTermination?: { loadShare: number; mode: 'all' | 'fixed-percent'; percent?: number; beforeMs: number; observeMs: number };
  forecastLoss: number;
  /** A knee lower than the baseline's by more than this share is a regression. */
  tolerance: number;
}

/** At most this many steps per search: a grid finer than this is almost always a typo. */
export const MAX_GRID_STEPS = 200;

const share = (s: string): number => Number(s.slice(0, -1)) / 100;
const ms = (s: string): number => parseDurationMs(s) as number;

/**
 * The capacity block of a scenario whose Plan was already built (so the file is valid): read again
 * for spec.capacity, then the rules across fields. Every problem at once, as InputError.
 */
export async function capacityPlanFromFile(file: string, plan: Plan): Promise<CapacityPlan> {
  const doc = scenarioSchema.parse(parse(await readFile(file, 'utf8')));
  return capacityPlanFrom(doc, plan, file);
}

export function capacityPlanFrom(doc: ReturnType<typeof scenarioSchema.parse>, plan: Plan, file?: string): CapacityPlan {
  const problems: Problem[] = [];
  const problem = (path: string, expected: string, found: string): void => {
    problems.push({ ...(file ? { file } : {}), path, expected, found });
  };
  const c = doc.spec.capacity;
  if (!c) throw new InputError([{ ...(file ? { file } : {}), path: 'spec.capacity', expected: 'a capacity block (startRate, stepRate, maxRate, …) for gameday capacity', found: 'nothing' }]);
  const rateLimit = doc.spec.limits?.rate ?? DEFAULT_RUN_LIMITS.ratePerSec;
  if (c.startRate > c.maxRate) problem('spec.capacity.startRate', `a rate at most maxRate (${c.maxRate})`, String(c.startRate));
  if (c.maxRate > rateLimit) problem('spec.capacity.maxRate', `a rate at most ${rateLimit}/s (more only with spec.limits.rate)`, String(c.maxRate));
  const steps = Math.floor((c.maxRate - c.startRate) / c.stepRate) + 1;
  if (steps > MAX_GRID_STEPS) problem('spec.capacity.stepRate', `a step giving at most ${MAX_GRID_STEPS} steps from startRate to maxRate (at least ${Math.ceil((c.maxRate - c.startRate) / (MAX_GRID_STEPS - 1))})`, `${c.stepRate} (${steps} steps)`);
  const stepMs = ms(c.stepDuration);
  const settleMs = ms(c.settle);
  if (settleMs > stepMs - 1000) problem('spec.capacity.settle', `at least 1s less than stepDuration (${c.stepDuration}), so each step has a second to judge`, c.settle);
  const local = plan.platform.kind === 'local' ? plan.platform : undefined;
  const nMinusOne = c.variants.nMinusOne;
  if (nMinusOne && (!local || local.replicas < 2)) {
    problem('spec.capacity.variants.nMinusOne', 'a local platform with at least 2 replicas (or nMinusOne: false)', local ? `${local.replicas} replica` : 'spec.target (a service gameday does not deploy)');
  }
  const faults = c.variants.faults.map((name, i) => {
    const found = plan.faults.find((f) => f.name === name);
    if (!found) problem(`spec.capacity.variants.faults[${i}]`, `the name of a spec.faults entry (${plan.faults.map((f) => f.name).join(', ') || 'none defined'})`, name);
    else if (found.kind === 'pod-kill') problem(`spec.capacity.variants.faults[${i}]`, 'a fault that stays active for a whole search (pod-kill is a one-off; use nMinusOne or massTermination)', name);
    return found;
  }).filter((f): f is FaultPlan => f !== undefined);
  const m = c.massTermination;
  if (m && !local) problem('spec.capacity.massTermination', 'a local platform (replicas gameday can kill)', 'spec.target');
  if (m && m.mode === 'fixed-percent' && m.percent === undefined) problem('spec.capacity.massTermination.percent', 'a share of replicas to kill (0–100) with mode fixed-percent', 'nothing');
  if (m && m.mode === 'all' && m.percent !== undefined) problem('spec.capacity.massTermination.percent', 'no percent with mode all', String(m.percent));
  const loadShare = m ? share(m.load) : 0;
  if (m && (loadShare <= 0 || loadShare > 1)) problem('spec.capacity.massTermination.load', 'a share of the knee above 0% and at most 100%', m.load);
  const failureRatio = share(c.slo.failureRatio);
  const achievedRatio = share(c.slo.achieved);
  if (failureRatio > 1) problem('spec.capacity.slo.failureRatio', 'a percentage from 0% to 100%', c.slo.failureRatio);
  if (achievedRatio < 0.5 || achievedRatio > 1) problem('spec.capacity.slo.achieved', 'a percentage from 50% to 100%', c.slo.achieved);
  const peak = typeof c.peak === 'string' ? Number(c.peak.slice(0, -2)) : c.peak;
  if (peak !== undefined && !(peak > 0)) problem('spec.capacity.peak', 'a rate above 0', String(c.peak));
  if (share(c.tolerance) >= 1) problem('spec.capacity.tolerance', 'a share below 100%', c.tolerance);
  if (plan.load.model === 'closed' && doc.spec.load.maxInFlight !== undefined) problem('spec.load.maxInFlight', 'no maxInFlight for model "closed"', String(doc.spec.load.maxInFlight));
  if (problems.length > 0) throw new InputError(problems);
  return {
    startRate: c.startRate,
    stepRate: c.stepRate,
    maxRate: c.maxRate,
    stepMs,
    settleMs,
    maxDurationMs: ms(c.maxDuration),
    refine: c.refine,
    slo: { latencyP95Ms: c.slo.latencyP95 ? ms(c.slo.latencyP95) : plan.slo.latencyP95Ms, failureRatio, achievedRatio },
    ...(peak !== undefined ? { peak } : {}),
    ...(doc.spec.load.maxInFlight !== undefined ? { maxInFlight: doc.spec.load.maxInFlight } : {}),
    variants: { nMinusOne, faults },
    ...(m ? { massTermination: { loadShare, mode: m.mode, ...(m.percent !== undefined ? { percent: m.percent } : {}), beforeMs: ms(m.before), observeMs: ms(m.observe) } } : {}),
    forecastLoss: c.forecastLoss,
    tolerance: share(c.tolerance),
  };
}

/** The capacity block's cross-field problems for `gameday validate` (none when the scenario has no block). */
export async function capacityProblems(file: string, plan: Plan): Promise<Problem[]> {
  const doc = scenarioSchema.parse(parse(await readFile(file, 'utf8')));
  if (!doc.spec.capacity) return [];
  try {
    capacityPlanFrom(doc, plan, file);
    return [];
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
}
