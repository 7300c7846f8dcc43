import { rate } from './judge.js';
import type { JudgedStep } from './judge.js';

/**
 * found: the service failed the SLO above `rate` (within `upper`). below-start: it failed at the
 * first step already. above-max: it held up to maxRate (a lower bound). generator-limited: the load
 * generator could not go higher (a lower bound). time-bound: the time ran out first (a lower bound).
 */
export type KneeStatus = 'found' | 'below-start' | 'above-max' | 'generator-limited' | 'time-bound' | 'interrupted';

export interface Knee {
  status: KneeStatus;
  /** The highest rate at which the SLO held (null when none did). */
  rate: number | null;
  /** The lowest rate at which it failed (null when none did, or the generator was the limit). */
  upper: number | null;
  /** upper − rate: the knee lies in [rate, upper). */
  uncertainty: number | null;
  /** One line: "200/s (fails at 220/s: ±…)" or "at least 120/s, limited by the load generator". */
  text: string;
}

export interface SearchConfig {
  startRate: number;
  stepRate: number;
  maxRate: number;
  /** Bisections between the last good and the first bad rate. */
  refine: number;
  /** Time left for this search, ms; a step is begun only if it fits. */
  budgetMs: number;
  /** The cost of one step (its duration plus the drain after it), for the budget. */
  stepCostMs: number;
}

/**
 * The knee: steps of `stepRate` from `startRate` until a step fails, a failure confirmed by one
 * more step at the same rate (a noisy second on a shared machine is not a knee), then `refine`
 * bisections between the last good and the first bad rate. A step the generator could not deliver
 * ends the search with a lower bound. Bounded by maxRate and by the time budget.
 */
export async function searchKnee(measure: (rate: number) => Promise<JudgedStep>, cfg: SearchConfig, now: () => number, signal?: AbortSignal): Promise<{ knee: Knee; steps: JudgedStep[] }> {
  const steps: JudgedStep[] = [];
  const deadline = now() + cfg.budgetMs;
  const fits = (): boolean => now() + cfg.stepCostMs <= deadline && !signal?.aborted;
  const step = async (rate: number): Promise<JudgedStep> => {
    const s = await measure(rate);
    // A step cut short by an interrupt says nothing: not kept, and the search ends below.
    if (!signal?.aborted) steps.push(s);
    return s;
  };
  let good: number | null = null;
  let bad: number | null = null;
  let limited: JudgedStep | undefined;
  let outOfTime = false;
  // Rates on the grid start + k·step, rounded so that 0.1 + 0.2 stays 0.3.
  for (let k = 0; ; k++) {
    const rate = round(cfg.startRate + k * cfg.stepRate);
    if (rate > cfg.maxRate) break;
    if (!fits()) {
      outOfTime = true;
      break;
    }
    let s = await step(rate);
    // Confirmed by one more step at the same rate: one stalled second on a shared machine is not a knee.
    if (s.verdict !== 'ok' && fits()) s = await step(rate);
    if (signal?.aborted) break;
    if (s.verdict === 'ok') {
      good = rate;
      continue;
    }
    if (s.verdict === 'generator-limited') limited = s;
    else bad = rate;
    break;
  }
  if (!limited && good !== null && bad !== null) {
    for (let i = 0; i < cfg.refine; i++) {
      if (!fits()) break;
      const mid = round((good + bad) / 2);
      if (mid <= good || mid >= bad) break;
      let s = await step(mid);
      // A generator stall ends the search with a lower bound: worth one more look.
      if (s.verdict === 'generator-limited' && fits()) s = await step(mid);
      if (signal?.aborted) break;
      if (s.verdict === 'ok') good = mid;
      else if (s.verdict === 'fail') bad = mid;
      else {
        limited = s;
        break;
      }
    }
  }
  return { knee: describe(good, bad, limited, outOfTime, signal?.aborted ?? false, cfg), steps };
}

function describe(good: number | null, bad: number | null, limited: JudgedStep | undefined, outOfTime: boolean, aborted: boolean, cfg: SearchConfig): Knee {
  const knee = (status: KneeStatus, text: string, upper: number | null = null): Knee => ({ status, rate: good, upper, uncertainty: good !== null && upper !== null ? round(upper - good) : null, text });
  if (aborted) return knee('interrupted', good !== null ? `at least ${rate(good)}/s (interrupted)` : 'not measured (interrupted)');
  if (limited) {
    const why = `limited by the load generator at ${rate(limited.rate)}/s (${limited.generatorLimits.join('; ')})`;
    return knee('generator-limited', good !== null ? `at least ${rate(good)}/s, ${why}` : `not measured: the first step was already ${why}`);
  }
  if (bad !== null && good === null) return knee('below-start', `below ${rate(bad)}/s (the first step, startRate, already failed: ${rate(bad)}/s)`, bad);
  if (bad !== null && good !== null) return knee('found', `${rate(good)}/s (the SLO held there and failed at ${rate(bad)}/s: the knee lies between, ±${rate(round((bad - good) / 2))}/s)`, bad);
  if (outOfTime) return knee('time-bound', `at least ${rate(good ?? 0)}/s (the time bound ran out before a step failed)`);
  return knee('above-max', `at least ${rate(good ?? cfg.maxRate)}/s (the SLO held up to maxRate)`);
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
