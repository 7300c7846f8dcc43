import type { Tolerance } from '../../scenario/plan.js';
import { bootstrapQuantiles, pooledQuantile, quantile, type WindowSample } from './bootstrap.js';
import { intervalWithRunNoise, runNoise } from './run-noise.js';
import type { MetricComparison } from './types.js';

export interface BootstrapSettings {
  confidence: number;
  resamples: number;
  seed: number;
}

/** Both sides' samples and their bootstrap percentiles, drawn once for every percentile compared. */
export interface LatencySides {
  base: WindowSample;
  cur: WindowSample;
  replicates: { base: Map<number, Float64Array>; cur: Map<number, Float64Array> };
}

const PERCENTILES = [95, 99];

export function latencySides(base: WindowSample, cur: WindowSample, s: BootstrapSettings): LatencySides {
  const draw = (w: WindowSample, seed: number): Map<number, Float64Array> => {
    const q = bootstrapQuantiles(w, PERCENTILES, s.resamples, seed);
    return new Map(PERCENTILES.map((p, i) => [p, q[i] as Float64Array]));
  };
  return { base, cur, replicates: { base: draw(base, s.seed), cur: draw(cur, s.seed + 1) } };
}

/**
 * A latency percentile compared as current / baseline. Regressed only when the lower bound of the
 * one-sided interval of that ratio (at `confidence`) exceeds 1 + allowance / baseline: the increase
 * is beyond the tolerance even at the low end of what the noise allows. The interval is the
 * bootstrap's over seconds; with repetitions on either side it also spans the run-to-run noise.
 */
export function compareLatency(
  metric: 'latency.p95' | 'latency.p99',
  sides: LatencySides,
  tolerance: Tolerance,
  s: BootstrapSettings,
): MetricComparison {
  const percentile = metric === 'latency.p95' ? 95 : 99;
  const { base, cur } = sides;
  const label = `latency p${percentile}`;
  const b = pooledQuantile(base, percentile);
  const c = pooledQuantile(cur, percentile);
  const common = { metric, label, unit: 'ms' as const, baseline: ms(b), current: ms(c), tolerance };
  if (b === null || c === null || b <= 0) {
    return { ...common, ratio: null, allowance: null, status: 'n/a', reason: 'no responses to compare' };
  }
  const allowance = Math.max(tolerance.relative * (b / 1000), tolerance.absolute);
  const allowedRatio = 1 + allowance / (b / 1000);
  const bq = sides.replicates.base.get(percentile) as Float64Array;
  const cq = sides.replicates.cur.get(percentile) as Float64Array;
  const ratios = cq.map((x, i) => x / (bq[i] ?? Number.NaN));
  const noise = runNoise(base, cur, percentile);
  const bounds = noise
    ? intervalWithRunNoise(c / b, ratios.map(Math.log), noise, base.runs.length, cur.runs.length, s.confidence)
    : { lowerRatio: quantile(ratios, 1 - s.confidence), upperRatio: quantile(ratios, s.confidence) };
  const interval = {
    ...bounds,
    confidence: s.confidence,
    resamples: s.resamples,
    windows: { baseline: base.windows.length, current: cur.windows.length },
    runs: { baseline: base.runs.length, current: cur.runs.length },
    ...(noise ? { runNoise: noise } : {}),
  };
  const ratio = c / b;
  const status = interval.lowerRatio > allowedRatio ? 'regressed' : ratio > allowedRatio ? 'within-noise' : 'ok';
  const reason = explain(status, ratio, interval.lowerRatio, allowedRatio, s.confidence);
  return { ...common, ratio, allowance, interval, status, reason };
}

const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;

function explain(status: MetricComparison['status'], ratio: number, lower: number, allowed: number, confidence: number): string {
  const level = `${confidence * 100}%`;
  if (status === 'regressed') return `${pct(lower)} or more (${level} lower bound) > allowed ${pct(allowed)}`;
  if (status === 'within-noise') return `${pct(ratio)} > allowed ${pct(allowed)}, but the ${level} lower bound is ${pct(lower)}: could be noise`;
  return `${pct(ratio)} within allowed ${pct(allowed)}`;
}

function ms(us: number | null): number | null {
  return us === null ? null : us / 1000;
}
