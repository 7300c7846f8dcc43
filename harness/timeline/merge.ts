import type { Histogram } from 'hdr-histogram-js';
import type { PhaseName } from '../scenario/plan.js';
import { sumOutcomeCounts } from './counters.js';
import { mergeHistograms, summarize } from './histogram.js';
import type { LatencySummary, OutcomeCounts, PhaseStats, RequestPhaseStats, TimelineData } from './types.js';

/** The figures a check judges: outcomes and latency over some spans, of every request or of one. */
export interface Selection extends OutcomeCounts, LatencySummary {
  /** Summed length of the selected spans. */
  durationMs: number;
  /** The merged latency histogram (µs). */
  histogram: Histogram;
}

/** Several phase spans taken together, e.g. every fault and recovery span for "latency over fault+recovery". */
export interface PhaseSelection extends OutcomeCounts, LatencySummary {
  phases: PhaseStats[];
  /** Percentiles of the served requests only (responses below 500). */
  served: LatencySummary;
  /** Summed length of the selected spans. */
  durationMs: number;
  /** The merged latency histogram (µs). */
  histogram: Histogram;
}

/** The spans whose phase is one of `names` (every span when empty), and of `fault` when given. */
export function phasesNamed(data: TimelineData, names: readonly PhaseName[], fault?: string): PhaseStats[] {
  return data.phases.filter((p) => (names.length === 0 || names.includes(p.span.phase)) && (fault === undefined || p.span.fault === fault));
}

export function mergePhaseHistograms(data: TimelineData, names: readonly PhaseName[]): Histogram {
  return mergeHistograms(
    phasesNamed(data, names).map((p) => p.histogram),
    data.maxLatencyMs,
  );
}

export function selectPhases(data: TimelineData, names: readonly PhaseName[], fault?: string): PhaseSelection {
  const phases = phasesNamed(data, names, fault);
  const histogram = mergeHistograms(
    phases.map((p) => p.histogram),
    data.maxLatencyMs,
  );
  return {
    phases,
    durationMs: phases.reduce((sum, p) => sum + (p.span.endMs - p.span.startMs), 0),
    ...sumOutcomeCounts(phases),
    // Exact mean from the phases' exact means, weighted by their timed outcomes.
    ...summarize(histogram, phases.reduce((sum, p) => sum + (p.meanMs ?? 0) * 1000 * p.count, 0)),
    histogram,
    served: summarize(mergeHistograms(phases.map((p) => p.servedHistogram), data.maxLatencyMs)),
  };
}

/**
 * One request's figures over the spans `phasesNamed` picks; undefined when the timeline has no
 * request of that name.
 */
export function selectRequest(data: TimelineData, request: string, names: readonly PhaseName[], fault?: string): Selection | undefined {
  const track = data.requests.find((r) => r.name === request);
  if (!track) return undefined;
  const spans = phasesNamed(data, names, fault);
  const parts = spans.map((p) => track.phases[p.index]).filter((p): p is RequestPhaseStats => p !== undefined);
  return mergeSelection(parts, spans.reduce((sum, p) => sum + (p.span.endMs - p.span.startMs), 0), data.maxLatencyMs);
}

/** Merges per-span figures: counts summed, histograms added (lossless), the exact mean weighted by outcomes. */
export function mergeSelection(parts: ReadonlyArray<OutcomeCounts & LatencySummary & { histogram: Histogram }>, durationMs: number, maxLatencyMs: number): Selection {
  const histogram = mergeHistograms(
    parts.map((p) => p.histogram),
    maxLatencyMs,
  );
  return {
    durationMs,
    ...sumOutcomeCounts(parts),
    ...summarize(histogram, parts.reduce((sum, p) => sum + (p.meanMs ?? 0) * 1000 * p.count, 0)),
    histogram,
  };
}
