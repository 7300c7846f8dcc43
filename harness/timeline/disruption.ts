import type { SloPlan } from '../scenario/plan.js';
import { sumOutcomeCounts } from './counters.js';
import { silentSecondEndMs } from './client-rto.js';
import { assertSameSlo, warmupEndMs, windowHealth } from './health.js';
import { firstDisruptedTick, lastDisruptedTick, lastNonEmptyTick } from './tick-scan.js';
import type { SecondWindow, TimelineData, TransportErrorCounts } from './types.js';

/** A maximal run of unhealthy seconds, its edges refined to the fine ticks. */
export interface Disruption {
  startMs: number;
  endMs: number;
  durationMs: number;
  /** The unhealthy seconds, by index (inclusive). */
  firstWindow: number;
  lastWindow: number;
  failures: number;
  status5xx: number;
  transportErrors: TransportErrorCounts;
  slow: number;
  /** The worst per-second p95 (histogram value), null when no response came back at all. */
  worstP95Ms: number | null;
  /** The scenario fault whose fault (else recovery) phase overlaps it; absent for someone else's outage. */
  fault?: string;
  /** It coincides with a second in which the harness itself stalled: possibly the harness's own. */
  harnessStall?: boolean;
}

/**
 * Every maximal run of unhealthy seconds starting after warm-up, whether or not a fault caused it.
 * Only seconds starting at or after the end of warm-up are judged. Idle seconds (no arrival
 * planned, none came) are skipped: they start no disruption and end none, so unhealthy seconds on
 * both sides of one make a single disruption; one that ends with idle seconds ends at its last
 * unhealthy second.
 */
export function detectDisruptions(data: TimelineData, slo: SloPlan): Disruption[] {
  assertSameSlo(data, slo.latencyP95Ms);
  const health = windowHealth(data);
  const first = Math.ceil(warmupEndMs(data) / data.windowMs);
  const found: Disruption[] = [];
  let runStart = -1;
  let lastUnhealthy = -1;
  for (let i = first; i <= health.length; i++) {
    const h = i < health.length ? health[i] : true;
    if (h === null) continue;
    if (!h) {
      if (runStart < 0) runStart = i;
      lastUnhealthy = i;
    } else if (runStart >= 0) {
      found.push(describe(data, runStart, lastUnhealthy));
      runStart = -1;
    }
  }
  return found;
}

function describe(data: TimelineData, a: number, b: number): Disruption {
  const windows = data.seconds.slice(a, b + 1);
  const startMs = disruptionStartMs(data, a);
  const endMs = Math.max(startMs, disruptionEndMs(data, b));
  const counts = sumOutcomeCounts(windows);
  const fault = faultOverlapping(data, startMs, endMs);
  return {
    startMs,
    endMs,
    durationMs: endMs - startMs,
    firstWindow: a,
    lastWindow: b,
    failures: counts.failures,
    status5xx: counts.status5xx,
    transportErrors: counts.transportErrors,
    slow: counts.slow,
    worstP95Ms: worstP95(windows),
    ...(fault !== undefined ? { fault } : {}),
  };
}

function ticksPerWindow(data: TimelineData): number {
  return data.windowMs / data.ticks.tickMs;
}

/** First bad tick of second `a`; for a silent second, the end of the last tick that saw an outcome. */
function disruptionStartMs(data: TimelineData, a: number): number {
  const { ticks } = data;
  const span = ticksPerWindow(data);
  const w = data.seconds[a];
  if (w && w.count === 0) {
    const last = lastNonEmptyTick(ticks, a * span, (a - 1) * span);
    return last === null ? a * data.windowMs : (last + 1) * ticks.tickMs;
  }
  const tick = firstDisruptedTick(ticks, a * span, (a + 1) * span, span);
  return tick === null ? a * data.windowMs : tick * ticks.tickMs;
}

/** End of the last bad tick of second `b`; for a silent second, the start of the next tick that saw an outcome. */
function disruptionEndMs(data: TimelineData, b: number): number {
  const { ticks } = data;
  const span = ticksPerWindow(data);
  const w = data.seconds[b];
  if (w && w.count === 0) return silentSecondEndMs(data, b);
  const tick = lastDisruptedTick(ticks, b * span, (b + 1) * span, span);
  return tick === null ? (b + 1) * data.windowMs : (tick + 1) * ticks.tickMs;
}

function worstP95(windows: readonly SecondWindow[]): number | null {
  let worst: number | null = null;
  for (const w of windows) if (w.p95Ms !== null && (worst === null || w.p95Ms > worst)) worst = w.p95Ms;
  return worst;
}

function faultOverlapping(data: TimelineData, startMs: number, endMs: number): string | undefined {
  const overlapping = data.phases
    .map((p) => p.span)
    .filter((s) => s.fault !== undefined && s.startMs < Math.max(endMs, startMs + 1) && startMs < s.endMs);
  return (overlapping.find((s) => s.phase === 'fault') ?? overlapping[0])?.fault;
}

// The client and platform RTOs live in their own modules; re-exported here, next to the disruptions.
export { clientRtoMs } from './client-rto.js';
export type { ClientRto } from './client-rto.js';
export { platformRtoMs } from './platform-rto.js';
export type { PlatformRto, ReplicaRecovery } from './platform-rto.js';
