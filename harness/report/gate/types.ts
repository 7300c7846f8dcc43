import type { RegressionMetric, Tolerance } from '../../scenario/plan.js';

/**
 * How a metric moved between a baseline and a current run (or sets of repetitions of each).
 * `regressed` only when the change exceeds the tolerance and is unlikely to be noise;
 * `inconclusive` when it would be, but the runs saw differently loaded machines.
 */
export type ComparisonStatus = 'regressed' | 'inconclusive' | 'within-noise' | 'ok' | 'n/a';

export interface BootstrapInterval {
  /** One-sided lower and upper bounds of current / baseline at `confidence`. */
  lowerRatio: number;
  upperRatio: number;
  confidence: number;
  resamples: number;
  /** Per-second windows each side was resampled from. */
  windows: { baseline: number; current: number };
  runs: { baseline: number; current: number };
  /** Run-to-run noise measured from repetitions, when either side has several. */
  runNoise?: { sdLog: number; df: number };
}

export interface MetricComparison {
  metric: RegressionMetric;
  label: string;
  unit: 'ms' | 'count';
  baseline: number | null;
  current: number | null;
  /** current / baseline; null when either is missing or the baseline is 0. */
  ratio: number | null;
  tolerance: Tolerance;
  /** The largest increase allowed, in the metric's unit: max(relative × baseline, absolute). */
  allowance: number | null;
  /** Latency percentiles: the bootstrap interval of the ratio. Others are compared as points (medians over repetitions). */
  interval?: BootstrapInterval;
  status: ComparisonStatus;
  reason: string;
}

export interface ComparedSide {
  scenario: string;
  files: string[];
  runs: number;
}

/** One of the servers' figures (Prometheus) for one window on both sides: shown, never gated (see gate/server.ts). */
export interface ServerFigureRow {
  /** "run", "fault of kill", "recovery of kill #2"… */
  window: string;
  figure: 'requests' | '5xx' | '5xx/s' | 'p95' | 'p99';
  baseline: string;
  current: string;
  change: string;
}

export interface ServerComparison {
  note: string;
  rows: ServerFigureRow[];
  /** Why there are no rows: a side without the servers' view. */
  unavailable?: string;
}

export interface Comparison {
  baseline: ComparedSide;
  current: ComparedSide;
  /** Cores busy with other work during the runs (medians), when the results say. */
  foreignCores?: { baseline: number; current: number };
  regressed: boolean;
  metrics: MetricComparison[];
  /** The servers' figures beside the gate, informational. */
  server?: ServerComparison;
}
