import type { ResultDocument } from '../result.js';
import type { MetricComparison } from './types.js';

/**
 * Cores busy with other work during a run (see run/host-load.ts), median over a side's runs;
 * undefined when a result does not say.
 */
export function foreignCores(docs: readonly ResultDocument[]): number | undefined {
  const xs = docs.map((d) => (d.meta['hostLoad'] as { foreignCores?: unknown } | undefined)?.foreignCores);
  if (xs.length === 0 || xs.some((x) => typeof x !== 'number')) return undefined;
  const sorted = (xs as number[]).slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Two runs whose machines' other load differs by more than this (cores) are not comparable on latency. */
export const FOREIGN_LOAD_LIMIT_CORES = 0.3;

const LOAD_SENSITIVE = new Set(['latency.p95', 'latency.p99', 'rto.client']);

/**
 * A latency regression measured while the machine was busier with other work than during the
 * baseline is as likely the other work as the code: it is reported inconclusive, not regressed.
 */
export function guardHostLoad(metrics: MetricComparison[], base: number | undefined, cur: number | undefined): MetricComparison[] {
  if (base === undefined || cur === undefined || Math.abs(cur - base) <= FOREIGN_LOAD_LIMIT_CORES) return metrics;
  const why = `the machine's other load differed (${base.toFixed(2)} vs ${cur.toFixed(2)} cores busy outside the run)`;
  return metrics.map((m) => (LOAD_SENSITIVE.has(m.metric) && m.status === 'regressed' ? { ...m, status: 'inconclusive', reason: `${m.reason}; but ${why}` } : m));
}
