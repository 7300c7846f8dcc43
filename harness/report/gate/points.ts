import type { RegressionMetric, Tolerance } from '../../scenario/plan.js';
import { formatValue } from '../format.js';
import type { MetricComparison } from './types.js';

/** A metric measured once per run; null means "did not recover" (RTOs), undefined "not measured". */
export type PointValue = number | null | undefined;

/** The median over repetitions; null if any repetition did not recover; undefined if none measured it. */
export function medianOf(values: readonly PointValue[]): PointValue {
  if (values.some((v) => v === undefined)) return undefined;
  if (values.some((v) => v === null)) return null;
  const xs = (values as number[]).slice().sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

/**
 * Values a run yields once (RTOs, failure counts, resource recovery) have no per-second sample to
 * resample: they are compared as medians over the repetitions (`--repeat N` on either side), and
 * regressed only when the increase exceeds max(relative × baseline, absolute) — an absolute floor
 * sized to the metric's known noise (probe periods, requests in flight at a kill).
 */
export function comparePoint(metric: RegressionMetric, label: string, unit: 'ms' | 'count', base: PointValue, cur: PointValue, tolerance: Tolerance): MetricComparison {
  const common = { metric, label, unit, baseline: base ?? null, current: cur ?? null, tolerance };
  if (base === undefined || cur === undefined) {
    return { ...common, ratio: null, allowance: null, status: 'n/a', reason: 'not measured on both sides' };
  }
  if (cur === null) {
    const status = base === null ? 'n/a' : 'regressed';
    return { ...common, ratio: null, allowance: null, status, reason: base === null ? 'did not recover on either side' : 'did not recover (the baseline did)' };
  }
  if (base === null) return { ...common, ratio: null, allowance: null, status: 'ok', reason: 'recovered (the baseline did not)' };
  const allowance = Math.max(tolerance.relative * base, tolerance.absolute);
  const ratio = base > 0 ? cur / base : null;
  const delta = cur - base;
  const status = delta > allowance ? 'regressed' : 'ok';
  const reason = `${delta >= 0 ? '+' : ''}${formatValue(delta, unit)} ${status === 'regressed' ? '>' : '≤'} allowed +${formatValue(allowance, unit)}`;
  return { ...common, ratio, allowance, status, reason };
}
