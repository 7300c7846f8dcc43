import jstat from 'jstat';
import { pooledQuantile, type WindowSample } from './bootstrap.js';

const { jStat } = jstat;

/** How much one run's percentile differs from the next run's of the same code (log scale). */
export interface RunNoise {
  /** Pooled standard deviation of log(percentile) between runs of the same side. */
  sdLog: number;
  /** Degrees of freedom: Σ (runs on a side − 1). */
  df: number;
}

function runPercentiles(sample: WindowSample, percentile: number): number[] {
  return sample.runs
    .map((run) => pooledQuantile({ ...sample, windows: run.map((i) => sample.windows[i]).filter((w) => w !== undefined) }, percentile))
    .filter((q): q is number => q !== null && q > 0);
}

/**
 * Run-to-run noise, measurable only from repetitions (`--repeat N` on either side): the seconds of
 * one run cannot show that the next run may be slower as a whole. Undefined with one run per side.
 */
export function runNoise(base: WindowSample, cur: WindowSample, percentile: number): RunNoise | undefined {
  let squares = 0;
  let df = 0;
  for (const side of [base, cur]) {
    const logs = runPercentiles(side, percentile).map(Math.log);
    if (logs.length < 2) continue;
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    squares += logs.reduce((a, b) => a + (b - mean) ** 2, 0);
    df += logs.length - 1;
  }
  return df > 0 ? { sdLog: Math.sqrt(squares / df), df } : undefined;
}

/**
 * The one-sided interval of current/baseline at `confidence` when runs vary, on the log scale.
 * The two-stage bootstrap already spans the run-to-run spread of a side with several runs; a
 * side with a single run cannot show it, so the spread measured on the other side's repetitions
 * is added for it (a current run is as likely to be an unlucky one as any baseline run was).
 */
export function intervalWithRunNoise(ratio: number, bootstrapLogs: Float64Array, noise: RunNoise, nb: number, nc: number, confidence: number): { lowerRatio: number; upperRatio: number } {
  const logs = bootstrapLogs.filter((x) => Number.isFinite(x));
  const mean = logs.reduce((a, b) => a + b, 0) / Math.max(1, logs.length);
  const varBoot = logs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, logs.length - 1);
  const unseen = (nb === 1 ? 1 : 0) + (nc === 1 ? 1 : 0);
  const se = Math.sqrt(varBoot + noise.sdLog ** 2 * unseen);
  const z = jStat.normal.inv(confidence, 0, 1);
  return { lowerRatio: Math.exp(Math.log(ratio) - z * se), upperRatio: Math.exp(Math.log(ratio) + z * se) };
}
