import type { PhaseName } from '../scenario/plan.js';
import { summarize } from '../timeline/histogram.js';
import { mergeSelection, phasesNamed } from '../timeline/merge.js';
import type { LatencySummary, OutcomeCounts, RequestSecondColumns, RequestTimeline, TimelineData } from '../timeline/types.js';
import { decodeHistogram, encodeHistogram } from './hdr.js';

/** A request's outcomes over some spans, as result.json gives them (latencies in ms, rate in arrivals/s). */
export interface RequestCounts {
  total: number;
  arrivals: number;
  responses: number;
  status5xx: number;
  transportErrors: number;
  dropped: number;
  unexpected: number;
  failures: number;
  /** Arrivals per second of the spans; null when they last no time. */
  ratePerSec: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Columns joined with commas (an empty field: no outcome), one value per second of result.timeline. */
export const PER_SECOND_ENCODING = 'comma-separated, one value per second of timeline; percentiles in ms, empty when the second had no outcome';

export interface RequestPerSecond {
  encoding: typeof PER_SECOND_ENCODING;
  count: string;
  dropped: string;
  status5xx: string;
  transportErrors: string;
  unexpected: string;
  p50Ms: string;
  p95Ms: string;
  p99Ms: string;
}

/** One workload request in result.json: after warm-up, per phase span, per second. */
export interface RequestFigures extends RequestCounts {
  /** The statuses it expects; null: any status below 400. */
  expectedStatuses: number[] | null;
  /** Outcomes that reached a second already sealed: in its counts, not its percentiles. */
  late: number;
  /** Aligned with result.phases by index. */
  phases: RequestCounts[];
  perSecond: RequestPerSecond;
}

function counts(c: OutcomeCounts & LatencySummary, durationMs: number): RequestCounts {
  return {
    total: c.count,
    arrivals: c.arrivals,
    responses: c.responses,
    status5xx: c.status5xx,
    transportErrors: c.transportErrors.total,
    dropped: c.dropped,
    unexpected: c.unexpected,
    failures: c.failures,
    ratePerSec: durationMs > 0 ? c.arrivals / (durationMs / 1000) : null,
    p50Ms: c.p50Ms,
    p95Ms: c.p95Ms,
    p99Ms: c.p99Ms,
    maxMs: c.maxMs,
  };
}

function perSecond(s: RequestSecondColumns): RequestPerSecond {
  const ints = (a: Uint32Array): string => a.join(',');
  const ms = (a: Uint32Array): string => Array.from(a, (us, i) => ((s.count[i] ?? 0) > 0 ? String(us / 1000) : '')).join(',');
  return {
    encoding: PER_SECOND_ENCODING,
    count: ints(s.count),
    dropped: ints(s.dropped),
    status5xx: ints(s.status5xx),
    transportErrors: ints(s.transportErrors),
    unexpected: ints(s.unexpected),
    p50Ms: ms(s.p50Us),
    p95Ms: ms(s.p95Us),
    p99Ms: ms(s.p99Us),
  };
}

/** The figures of one request over the spans named `measured` (as the run's totals). */
function figures(t: TimelineData, r: RequestTimeline, measured: readonly PhaseName[]): RequestFigures {
  const spans = phasesNamed(t, measured);
  const over = mergeSelection(spans.map((p) => r.phases[p.index]).filter((p) => p !== undefined), duration(spans), t.maxLatencyMs);
  return {
    expectedStatuses: r.expectedStatuses,
    ...counts(over, over.durationMs),
    late: r.late,
    phases: r.phases.map((p) => {
      const span = t.phases[p.index]?.span;
      return counts(p, span ? span.endMs - span.startMs : 0);
    }),
    perSecond: perSecond(r.seconds),
  };
}

function duration(spans: ReadonlyArray<{ span: { startMs: number; endMs: number } }>): number {
  return spans.reduce((sum, p) => sum + (p.span.endMs - p.span.startMs), 0);
}

/** result.json's `requests.byName`: every named request, in workload order. */
export function requestsByName(t: TimelineData, measured: readonly PhaseName[]): Record<string, RequestFigures> {
  return Object.fromEntries(t.requests.map((r) => [r.name, figures(t, r, measured)]));
}

/** result.json's `hdr.requests`: per request, its latency histogram per phase span (aligned with result.phases). */
export function requestHistograms(t: TimelineData): Record<string, string[]> {
  return Object.fromEntries(t.requests.map((r) => [r.name, r.phases.map((p) => encodeHistogram(p.histogram))]));
}

/** Reads a `perSecond` column back: numbers, null where the field is empty. */
export function perSecondColumn(encoded: string): Array<number | null> {
  if (encoded === '') return [];
  return encoded.split(',').map((v) => (v === '' ? null : Number(v)));
}

/**
 * One request over several phase spans of a result (e.g. fault+recovery), from result.json alone:
 * counts summed, the spans' histograms decoded and added (lossless). `indexes` index result.phases.
 */
export function requestOverPhases(phases: ReadonlyArray<{ span: { startMs: number; endMs: number } }>, f: RequestFigures, encoded: readonly string[], indexes: readonly number[]): RequestCounts {
  const picked = indexes.map((i) => f.phases[i]).filter((p): p is RequestCounts => p !== undefined);
  const add = (key: 'total' | 'arrivals' | 'responses' | 'status5xx' | 'transportErrors' | 'dropped' | 'unexpected' | 'failures'): number => picked.reduce((s, p) => s + p[key], 0);
  const histograms = indexes.flatMap((i) => (encoded[i] ? [decodeHistogram(encoded[i])] : []));
  const [merged, ...rest] = histograms;
  for (const h of rest) merged?.add(h);
  const latency = merged ? summarize(merged) : { p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null };
  const durationMs = duration(indexes.map((i) => phases[i]).filter((p) => p !== undefined));
  return {
    total: add('total'),
    arrivals: add('arrivals'),
    responses: add('responses'),
    status5xx: add('status5xx'),
    transportErrors: add('transportErrors'),
    dropped: add('dropped'),
    unexpected: add('unexpected'),
    failures: add('failures'),
    ratePerSec: durationMs > 0 ? add('arrivals') / (durationMs / 1000) : null,
    p50Ms: latency.p50Ms,
    p95Ms: latency.p95Ms,
    p99Ms: latency.p99Ms,
    maxMs: latency.maxMs,
  };
}
