import { TOTAL, type ResourceSeries } from '../observe/series.js';

/**
 * Resource recovery (the seed's resource-recovery SLIs), as pure functions over sampled series:
 * the pre-fault baseline, then how long after the fault ended each resource came back within a
 * tolerance of it, and which never did (leaks). Counts and gauges aggregate over replicas by sum:
 * replicas are replaced during a run and change names, their sum is what the checks judge.
 */

/**
 * Back means value ≤ baseline + max(abs, rel × |baseline|). One-sided: every sampled resource is
 * something held (connections, pool slots, memory, file descriptors), so holding less than before
 * the fault is no leak — e.g. pool connections opened during start-up and closed later by the
 * pool's idle timeout take the series below a baseline measured early.
 */
export interface Tolerance {
  abs: number;
  rel: number;
}

export const DEFAULT_TOLERANCES: Readonly<Record<string, Tolerance>> = {
  db_connections: { abs: 2, rel: 0.1 },
  db_pool_total: { abs: 2, rel: 0.2 },
  db_pool_active: { abs: 2, rel: 0.2 },
  db_pool_idle: { abs: 2, rel: 0.2 },
  db_pool_wait_count: { abs: 2, rel: 0.2 },
  rss_bytes: { abs: 32 * 1024 * 1024, rel: 0.25 },
  open_fds: { abs: 5, rel: 0.2 },
};
export const FALLBACK_TOLERANCE: Tolerance = { abs: 1, rel: 0.1 };

export interface ResourceRecoveryOptions {
  /** The baseline window is [baselineStartMs, baselineEndMs ?? faultAtMs). */
  baselineStartMs: number;
  /** End of the baseline window when it is not the fault's start (in a sequence: before the first fault). */
  baselineEndMs?: number;
  faultAtMs: number;
  faultEndMs: number;
  /** How long a series must stay within tolerance to count as recovered (or until it ends). */
  sustainMs: number;
  /**
   * Judge only points before this instant (e.g. the next fault's start in a sequence): a resource
   * not back by then is leaked as far as this fault is concerned. Default: the whole series.
   */
  untilMs?: number;
  /** Per resource; DEFAULT_TOLERANCES, then FALLBACK_TOLERANCE, fill the gaps. */
  tolerances?: Record<string, Tolerance>;
  /** Resources to judge; default every resource in the series. */
  resources?: readonly string[];
  /** Also judge each replica present in the baseline window; default true. */
  perReplica?: boolean;
}

/**
 * - recovered: within tolerance from `recoveredAtMs` on, for the sustain period or to the end;
 * - leaked: never back within tolerance after the fault ended;
 * - gone: a replica that left (was replaced) before it came back; its sum is judged instead;
 * - no-baseline / no-data: nothing sampled in the baseline window / after the fault ended.
 */
export type RecoveryStatus = 'recovered' | 'leaked' | 'gone' | 'no-baseline' | 'no-data';

export interface ResourceRecovery {
  resource: string;
  /** A replica name, or `total` for the sum over replicas. */
  replica: string;
  baseline: number | null;
  /** The tolerance in the resource's unit, above the baseline. */
  toleranceAbs: number | null;
  /** From the fault's start on, the highest sampled value. */
  peak: number | null;
  recoveredAtMs: number | null;
  /** Fault end → recovered; 0 when the resource was already back when the fault ended. */
  recoveryMs: number | null;
  leaked: boolean;
  status: RecoveryStatus;
}

type Points = ReadonlyArray<readonly [number, number]>;

export function analyzeResourceRecovery(series: readonly ResourceSeries[], options: ResourceRecoveryOptions): ResourceRecovery[] {
  const resources = options.resources ?? [...new Set(series.map((s) => s.resource))];
  return resources.flatMap((resource) => {
    const own = series.filter((s) => s.resource === resource);
    const aggregate = aggregateBySum(own).filter(([t]) => t < (options.untilMs ?? Number.POSITIVE_INFINITY));
    const endMs = aggregate.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY;
    const results = [judge(resource, TOTAL, aggregate, options, endMs)];
    if (options.perReplica === false) return results;
    for (const s of own) {
      if (s.replica === TOTAL || !s.points.some(([t]) => inBaseline(t, options))) continue;
      results.push(judge(resource, s.replica, s.points.filter(([t]) => t < (options.untilMs ?? Number.POSITIVE_INFINITY)), options, endMs));
    }
    return results;
  });
}

/** The `total` series when there is one, else the per-timestamp sum of the replicas' points. */
export function aggregateBySum(series: readonly ResourceSeries[]): Array<[number, number]> {
  const total = series.find((s) => s.replica === TOTAL);
  if (total) return total.points.map(([t, v]) => [t, v]);
  const sums = new Map<number, number>();
  for (const s of series) for (const [t, v] of s.points) sums.set(t, (sums.get(t) ?? 0) + v);
  return [...sums.entries()].sort((x, y) => x[0] - y[0]);
}

function inBaseline(tMs: number, o: ResourceRecoveryOptions): boolean {
  return tMs >= o.baselineStartMs && tMs < (o.baselineEndMs ?? o.faultAtMs);
}

function judge(resource: string, replica: string, points: Points, o: ResourceRecoveryOptions, endMs: number): ResourceRecovery {
  const none = { resource, replica, baseline: null, toleranceAbs: null, peak: null, recoveredAtMs: null, recoveryMs: null, leaked: false };
  const baseline = median(points.filter(([t]) => inBaseline(t, o)).map(([, v]) => v));
  if (baseline === null) return { ...none, status: 'no-baseline' };
  const tolerance = o.tolerances?.[resource] ?? DEFAULT_TOLERANCES[resource] ?? FALLBACK_TOLERANCE;
  const toleranceAbs = Math.max(tolerance.abs, tolerance.rel * Math.abs(baseline));
  const judged = { ...none, baseline, toleranceAbs, peak: peakValue(points, o.faultAtMs) };
  const after = pointsFrom(points, o.faultEndMs);
  if (after.length === 0) return { ...judged, status: 'no-data' };
  const recoveredAtMs = firstSustained(after, (v) => v <= baseline + toleranceAbs, o.sustainMs);
  if (recoveredAtMs !== null) return { ...judged, recoveredAtMs, recoveryMs: recoveredAtMs - o.faultEndMs, status: 'recovered' };
  const gone = replica !== TOTAL && (points.at(-1)?.[0] ?? endMs) < endMs;
  return { ...judged, leaked: !gone, status: gone ? 'gone' : 'leaked' };
}

/** Points from `fromMs` on; the last sample before it holds until the next (sample-and-hold). */
function pointsFrom(points: Points, fromMs: number): Points {
  const i = points.findIndex(([t]) => t >= fromMs);
  const start = i === -1 ? points.length : i;
  const held = points[start - 1];
  const rest = points.slice(start);
  const first = rest[0];
  return held && first && first[0] > fromMs ? [[fromMs, held[1]], ...rest] : rest;
}

/** The start of the first run of points within tolerance lasting `sustainMs`, or reaching the end. */
function firstSustained(points: Points, within: (v: number) => boolean, sustainMs: number): number | null {
  let runStart: number | null = null;
  for (const [t, v] of points) {
    if (!within(v)) {
      runStart = null;
      continue;
    }
    runStart ??= t;
    if (t - runStart >= sustainMs) return runStart;
  }
  return runStart;
}

function peakValue(points: Points, fromMs: number): number | null {
  let peak: number | null = null;
  for (const [t, v] of points) if (t >= fromMs && (peak === null || v > peak)) peak = v;
  return peak;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
