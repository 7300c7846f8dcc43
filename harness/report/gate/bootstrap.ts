import { seededRandom } from '../../core/random.js';

/** One per-second window as sparse counts over its side's sorted distinct values. */
export interface SparseWindow {
  index: Uint32Array;
  counts: Float64Array;
}

/** The per-second latency windows of one side (all its repetitions), over shared distinct values (µs). */
export interface WindowSample {
  values: Float64Array;
  windows: SparseWindow[];
  /** The windows of each run (repetition), by index into `windows`. */
  runs: number[][];
}

/** HdrHistogram's getValueAtPercentile over dense counts: the first value whose cumulative count reaches the rank. */
export function quantileOfCounts(values: Float64Array, dense: Float64Array, total: number, percentile: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.floor((percentile / 100) * total + 0.5));
  let cumulative = 0;
  for (let i = 0; i < dense.length; i++) {
    cumulative += dense[i] ?? 0;
    if (cumulative >= rank) return values[i] ?? null;
  }
  return values[values.length - 1] ?? null;
}

/** The percentile over every window of the sample, each counted once. */
export function pooledQuantile(sample: WindowSample, percentile: number): number | null {
  return quantileOf(sample, sample.windows, percentile, new Float64Array(sample.values.length));
}

function quantileOf(sample: WindowSample, picked: readonly SparseWindow[], percentile: number, dense: Float64Array): number | null {
  return quantilesOf(sample, picked, [percentile], dense)[0] ?? null;
}

/** Pools the picked windows' counts into `dense`, then reads each percentile off it. */
function quantilesOf(sample: WindowSample, picked: readonly SparseWindow[], percentiles: readonly number[], dense: Float64Array): Array<number | null> {
  dense.fill(0);
  let total = 0;
  for (const w of picked) {
    for (let j = 0; j < w.index.length; j++) {
      const c = w.counts[j] ?? 0;
      const k = w.index[j] ?? 0;
      dense[k] = (dense[k] ?? 0) + c;
      total += c;
    }
  }
  return percentiles.map((p) => quantileOfCounts(sample.values, dense, total, p));
}

/**
 * Cluster bootstrap, two-stage when a side has several runs: each resample draws as many runs as
 * the side has, with replacement, then within each drawn run as many of its seconds, with
 * replacement, and takes the pooled percentiles (all from the same draws). Whole seconds are
 * resampled (not single requests) because latencies within a second are correlated (a GC pause,
 * a kill); whole runs because runs differ (the machine's load drifts between them), which the
 * seconds of one run cannot show. The PRNG is seeded: the same inputs give the same interval.
 */
export function bootstrapQuantiles(sample: WindowSample, percentiles: readonly number[], resamples: number, seed: number): Float64Array[] {
  const random = seededRandom(seed);
  const out = percentiles.map(() => new Float64Array(resamples));
  const dense = new Float64Array(sample.values.length);
  const picked: SparseWindow[] = [];
  for (let b = 0; b < resamples; b++) {
    picked.length = 0;
    for (let r = 0; r < sample.runs.length; r++) {
      const run = sample.runs[Math.floor(random() * sample.runs.length)] as number[];
      for (let i = 0; i < run.length; i++) picked.push(sample.windows[run[Math.floor(random() * run.length)] as number] as SparseWindow);
    }
    quantilesOf(sample, picked, percentiles, dense).forEach((q, k) => {
      (out[k] as Float64Array)[b] = q ?? Number.NaN;
    });
  }
  return out;
}

/** The q-quantile (0–1) of `xs` by the nearest-rank rule, NaNs left out. */
export function quantile(xs: Float64Array, q: number): number {
  const sorted = xs.filter((x) => !Number.isNaN(x)).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
