import type { Histogram } from 'hdr-histogram-js';
import type { TransportErrorKind } from '../load/types.js';
import type { PhaseName, PhaseSpan } from '../scenario/plan.js';

/**
 * The plain data the timeline stage hands to the verdict and the reports.
 * Units: times in run-clock ms; latencies in ms (histograms hold microseconds).
 */

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export type TransportErrorCounts = Record<TransportErrorKind, number> & { total: number };

/** What happened in a span of the run clock, every outcome attributed by its completion time. */
export interface OutcomeCounts {
  /** Every outcome observed: HTTP responses + transport errors (drops are not outcomes). */
  count: number;
  /** Completed HTTP responses, whatever their status: the only outcomes in the latency histogram. */
  responses: number;
  status: Record<StatusClass, number>;
  status5xx: number;
  transportErrors: TransportErrorCounts;
  /** 5xx responses + transport errors. */
  failures: number;
  /** Responses slower than the SLO latency (exact, not from the histogram). */
  slow: number;
  /** Open-model arrivals not sent because `maxInFlight` requests were outstanding. */
  dropped: number;
  /** Responses slower than the histogram's range, recorded as its highest trackable value. */
  clamped: number;
}

/** Percentiles of the responses' latency, ms; null when there was no response. */
export interface LatencySummary {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
}

/** One second of the run: window i covers [i·1000, (i+1)·1000). */
export interface SecondWindow extends OutcomeCounts, LatencySummary {
  index: number;
  startMs: number;
  endMs: number;
  /** The phase (and its fault) containing the window's start. */
  phase: PhaseName | null;
  fault?: string;
  /** Latencies in µs, kept for HdrHistogram interval logs. */
  histogram: Histogram;
}

/** One phase span (keyed by its index in the plan, so two fault phases stay apart). */
export interface PhaseStats extends OutcomeCounts, LatencySummary {
  index: number;
  span: PhaseSpan;
  /** Latencies in µs, kept for merging phases. */
  histogram: Histogram;
}

/** Counters per fine tick i covering [i·tickMs, (i+1)·tickMs). */
export interface TickSeries {
  tickMs: number;
  total: Uint32Array;
  failures: Uint32Array;
  slow: Uint32Array;
}

export interface TimelineData {
  windowMs: number;
  sloLatencyMs: number;
  maxLatencyMs: number;
  seconds: SecondWindow[];
  phases: PhaseStats[];
  ticks: TickSeries;
}
