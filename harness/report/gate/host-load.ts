import type { ResultDocument } from '../result.js';
import type { MetricComparison } from './types.js';

/** A run's machine: cores busy with other work, cores used by the run, and how many there are. */
export interface SideLoad {
  foreignCores: number;
  ownCores: number;
  cpus: number;
}

/** The median run of a side by other load; undefined when any result does not say (see run/host-load.ts). */
export function sideLoad(docs: readonly ResultDocument[]): SideLoad | undefined {
  const loads = docs.map((d) => d.meta['hostLoad'] as Partial<SideLoad> | undefined);
  if (loads.length === 0 || loads.some((l) => typeof l?.foreignCores !== 'number' || typeof l.cpus !== 'number')) return undefined;
  const sorted = (loads as SideLoad[]).slice().sort((a, b) => a.foreignCores - b.foreignCores);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Other load below this many cores (at least 0.25, or 10 % of the machine) leaves latency alone. */
export function quietLimit(cpus: number): number {
  return Math.max(0.25, 0.1 * cpus);
}

/** Why the two runs' latencies cannot be compared, or undefined when they can. */
export function disturbance(base: SideLoad | undefined, cur: SideLoad | undefined): string | undefined {
  if (!base || !cur) return undefined;
  const limit = quietLimit(Math.min(base.cpus, cur.cpus));
  if (base.foreignCores <= limit && cur.foreignCores <= limit) return undefined;
  const saturated = [base, cur].some((s) => s.foreignCores + s.ownCores > 0.85 * s.cpus);
  const similar = Math.abs(base.foreignCores - cur.foreignCores) <= limit;
  if (similar && !saturated) return undefined;
  const what = saturated ? 'the machine was saturated by other work' : "the machine's other load differed";
  return `${what} (${base.foreignCores.toFixed(2)} vs ${cur.foreignCores.toFixed(2)} of ${cur.cpus} cores busy outside the run)`;
}

const LOAD_SENSITIVE = new Set(['latency.p95', 'latency.p99', 'rto.client']);

/**
 * A latency regression measured while other work competed for the machine differently than
 * during the baseline is as likely that work as the code: it is reported inconclusive, not
 * regressed. A run alone on its machine (the CI case) is never excused.
 */
export function guardHostLoad(metrics: MetricComparison[], base: SideLoad | undefined, cur: SideLoad | undefined): MetricComparison[] {
  const why = disturbance(base, cur);
  if (!why) return metrics;
  return metrics.map((m) => (LOAD_SENSITIVE.has(m.metric) && m.status === 'regressed' ? { ...m, status: 'inconclusive', reason: `${m.reason}; but ${why}` } : m));
}
