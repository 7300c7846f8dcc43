import { DEFAULT_REGRESSION } from '../../scenario/regression.js';
import type { RegressionPlan } from '../../scenario/plan.js';
import type { ResultDocument } from '../result.js';
import { guardHostLoad, sideLoad } from './host-load.js';
import { compareLatency, latencySides, type BootstrapSettings } from './latency.js';
import { comparePoint, medianOf, type PointValue } from './points.js';
import { resourceRecoveryMs } from './resources.js';
import { compareServerSide } from './server.js';
import type { ComparedSide, Comparison, MetricComparison } from './types.js';
import { latencyWindows } from './windows.js';

export interface LoadedResult {
  file: string;
  doc: ResultDocument;
}

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 0x5eed;

function side(results: readonly LoadedResult[]): ComparedSide {
  return { scenario: results[0]?.doc.scenario.name ?? 'unknown', files: results.map((r) => r.file), runs: results.length };
}

function median(results: readonly LoadedResult[], pick: (d: ResultDocument) => PointValue): PointValue {
  return medianOf(results.map((r) => pick(r.doc)));
}

const failures = (d: ResultDocument): number => d.requests.status5xx + d.requests.transportErrors;

/**
 * The regression gate: the current run(s) against the baseline run(s), with the tolerances the
 * current scenario declares (`spec.regression`, carried in result.json) or the defaults.
 */
export function compareResults(baseline: readonly LoadedResult[], current: readonly LoadedResult[], opts: { regression?: RegressionPlan; resamples?: number } = {}): Comparison {
  const plan = opts.regression ?? current[0]?.doc.regression ?? DEFAULT_REGRESSION;
  const t = plan.tolerances;
  const settings: BootstrapSettings = { confidence: plan.confidence, resamples: opts.resamples ?? BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED };
  const sides = latencySides(latencyWindows(baseline.map((r) => r.doc)), latencyWindows(current.map((r) => r.doc)), settings);
  const point = (metric: keyof typeof t, label: string, unit: 'ms' | 'count', pick: (d: ResultDocument) => PointValue): MetricComparison =>
    comparePoint(metric, label, unit, median(baseline, pick), median(current, pick), t[metric]);
  const metrics = [
    compareLatency('latency.p95', sides, t['latency.p95'], settings),
    compareLatency('latency.p99', sides, t['latency.p99'], settings),
    point('rto.client', 'client RTO', 'ms', (d) => (d.rto.faults.length ? d.rto.clientMs : undefined)),
    point('rto.platform', 'platform RTO', 'ms', (d) => (d.rto.faults.length ? d.rto.platformMs : undefined)),
    point('requests.failures', 'failures', 'count', failures),
    point('resources.recovery', 'resource recovery', 'ms', resourceRecoveryMs),
  ];
  const [lb, lc] = [sideLoad(baseline.map((r) => r.doc)), sideLoad(current.map((r) => r.doc))];
  const guarded = guardHostLoad(metrics, lb, lc);
  const load = lb && lc ? { foreignCores: { baseline: lb.foreignCores, current: lc.foreignCores } } : {};
  const server = compareServerSide(baseline.map((r) => r.doc), current.map((r) => r.doc));
  return { baseline: side(baseline), current: side(current), ...load, regressed: guarded.some((m) => m.status === 'regressed'), metrics: guarded, ...(server ? { server } : {}) };
}
