import type { Comparator, MetricName, MetricUnit } from './plan.js';

/** The unit each metric is judged in. */
export const METRIC_UNITS: Record<MetricName, MetricUnit> = {
  'rto.platform': 'ms',
  'rto.client': 'ms',
  'requests.status5xx': 'count',
  'requests.transportErrors': 'count',
  'requests.dropped': 'count',
  'requests.failures': 'count',
  'requests.failureRatio': 'ratio',
  'requests.unexpected': 'count',
  'latency.p50': 'ms',
  'latency.p95': 'ms',
  'latency.p99': 'ms',
  'latency.max': 'ms',
  'throughput.rps': 'rps',
  'resources.recoveryTime': 'ms',
  'resources.leaked': 'count',
  'durability.lostWrites': 'count',
  // The disaster-recovery drill (verdict/dr-metrics.ts).
  'durability.lostOutsideRpo': 'count',
  'rto.restore': 'ms',
  'rpo.span': 'ms',
  'rpo.lostWrites': 'count',
  // A PromQL expression's value, judged as a plain number.
  promql: 'count',
  // Conformance metrics count the problems found (target "== 0").
  'conformance.costLabels': 'count',
  'conformance.costVisibility': 'count',
  'conformance.rightSizing': 'count',
  'conformance.backupSchedule': 'count',
  'conformance.backupRetention': 'count',
  'conformance.backupHook': 'count',
  'conformance.chaosSafety': 'count',
};

const TARGET = /^(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|%)?$/;
const TO_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export type ParsedTarget = { comparator: Comparator; threshold: number } | { error: string };

/** Parses a k6-threshold-like target ("< 30s", "== 0", "<= 1%") into the metric's unit. */
export function parseTarget(text: string, unit: MetricUnit): ParsedTarget {
  const m = TARGET.exec(text.trim());
  if (!m) return { error: 'a comparison such as "< 30s", "== 0" or "<= 1%"' };
  const comparator = m[1] as Comparator;
  const value = Number(m[2]);
  const suffix = m[3];
  switch (unit) {
    case 'ms':
      if (suffix === '%') return { error: 'a duration ("< 500ms", "< 30s")' };
      return { comparator, threshold: value * (suffix ? (TO_MS[suffix] as number) : 1) };
    case 'ratio':
      if (suffix && suffix !== '%') return { error: 'a ratio ("<= 1%" or "<= 0.01")' };
      if (!suffix && value > 1) return { error: 'a ratio between 0 and 1, or a percentage ("<= 1%")' };
      return { comparator, threshold: suffix === '%' ? value / 100 : value };
    case 'count':
    case 'rps':
      if (suffix) return { error: `a plain number (${unit})` };
      return { comparator, threshold: value };
  }
}
