import { parseDurationMs } from '../core/duration.js';
import type { RegressionMetric, RegressionPlan, Tolerance } from './plan.js';
import type { RegressionDocument } from './schema.js';

/**
 * Sane defaults for the regression gate: a latency percentile may grow 20 % (p95) or 30 % (p99),
 * and at least 3 ms or 5 ms (a few ms is scheduling noise on a small machine running the whole
 * system: A/A pairs of the pod-kill Game Day differ by up to 2–3 ms at a p95 of 3–5 ms), before
 * the gate looks at it; recovery times are coarse (probe periods) and single-valued per run, so
 * they get 50 % and 1 s; failures around a kill vary with what was in flight: 100 % and 25.
 */
export const DEFAULT_REGRESSION: RegressionPlan = {
  tolerances: {
    'latency.p95': { relative: 0.2, absolute: 3 },
    'latency.p99': { relative: 0.3, absolute: 5 },
    'rto.client': { relative: 0.5, absolute: 1000 },
    'rto.platform': { relative: 0.5, absolute: 1000 },
    'requests.failures': { relative: 1, absolute: 25 },
    'resources.recovery': { relative: 0.5, absolute: 5000 },
  },
  confidence: 0.95,
};

const KEYS: Record<Exclude<keyof RegressionDocument, 'confidence'>, RegressionMetric> = {
  latencyP95: 'latency.p95',
  latencyP99: 'latency.p99',
  rtoClient: 'rto.client',
  rtoPlatform: 'rto.platform',
  failures: 'requests.failures',
  resourceRecovery: 'resources.recovery',
};

function tolerance(doc: { relative?: string; absolute?: string | number } | undefined, fallback: Tolerance): Tolerance {
  const relative = doc?.relative === undefined ? fallback.relative : Number(doc.relative.slice(0, -1)) / 100;
  const abs = doc?.absolute;
  const absolute = abs === undefined ? fallback.absolute : typeof abs === 'number' ? abs : (parseDurationMs(abs) as number);
  return { relative, absolute };
}

/** The scenario's `spec.regression`, every omitted tolerance filled with its default. */
export function regressionPlan(doc: RegressionDocument | undefined): RegressionPlan {
  const tolerances = { ...DEFAULT_REGRESSION.tolerances };
  for (const [key, metric] of Object.entries(KEYS) as Array<[keyof typeof KEYS, RegressionMetric]>) {
    tolerances[metric] = tolerance(doc?.[key], DEFAULT_REGRESSION.tolerances[metric]);
  }
  return { tolerances, confidence: doc?.confidence ?? DEFAULT_REGRESSION.confidence };
}
