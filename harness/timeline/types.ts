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

/**
 * What happened to the requests (meant to be) sent in a span of the run clock: every outcome is
 * attributed to the instant its request was meant to be sent (open model: the intended send time;
 * closed model: the actual send), never to when it completed, so an outage that hangs is placed
 * where clients met it, not a timeout later.
 */
export interface OutcomeCounts {
  /** Every outcome observed: HTTP responses + transport errors. All of them are timed. */
  count: number;
  /** Arrivals: outcomes + dropped arrivals (every client that wanted service). */
  arrivals: number;
  /** Completed HTTP responses, whatever their status. */
  responses: number;
  status: Record<StatusClass, number>;
  status5xx: number;
  transportErrors: TransportErrorCounts;
  /** Clients who were not served: 5xx responses + transport errors + dropped arrivals. */
  failures: number;
  /** Outcomes (responses and transport errors) slower than the SLO latency (exact, not from the histogram). */
  slow: number;
  /** Open-model arrivals not sent because `maxInFlight` requests were outstanding: never timed, always failures. */
  dropped: number;
  /** Outcomes slower than the histogram's range, recorded as its highest trackable value. */
  clamped: number;
  /**
   * Responses whose status is not one the request expects (default: any status below 400).
   * A 5xx is never counted here (it is a failure, in `status5xx`), nor a transport error.
   */
  unexpected: number;
}

/**
 * Percentiles of every outcome's latency, ms: responses of any status and transport errors (a
 * timeout at its elapsed time, a refused connection at the time it took to fail); dropped
 * arrivals have no latency and are counted as failures instead. Null when there was no outcome.
 */
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
  /** Latencies in µs of every outcome, kept for merging phases. */
  histogram: Histogram;
  /** Percentiles of the served requests only (responses below 500), a secondary figure. */
  served: LatencySummary;
  /** Latencies in µs of the served requests only. */
  servedHistogram: Histogram;
}

/** Counters per fine tick i covering [i·tickMs, (i+1)·tickMs). */
export interface TickSeries {
  tickMs: number;
  /** Outcomes and dropped arrivals, by the instant they were meant to be sent. */
  total: Uint32Array;
  /** 5xx, transport errors and dropped arrivals. */
  failures: Uint32Array;
  slow: Uint32Array;
}

/** One request of the workload in one phase span (aligned with TimelineData.phases by index). */
export interface RequestPhaseStats extends OutcomeCounts, LatencySummary {
  index: number;
  /** Latencies in µs of every outcome of this request in the span. */
  histogram: Histogram;
}

/**
 * One request's figures per second, column-wise and aligned with TimelineData.seconds by index:
 * a second holds 32 bytes per request once sealed, not a histogram. Percentiles are in µs, as
 * HdrHistogram reports them (the top of the value's bucket), 0 when the second had no outcome.
 */
export interface RequestSecondColumns {
  /** Timed outcomes: responses of any status and transport errors. */
  count: Uint32Array;
  dropped: Uint32Array;
  status5xx: Uint32Array;
  transportErrors: Uint32Array;
  unexpected: Uint32Array;
  p50Us: Uint32Array;
  p95Us: Uint32Array;
  p99Us: Uint32Array;
}

export const REQUEST_SECOND_COLUMNS: ReadonlyArray<keyof RequestSecondColumns> = ['count', 'dropped', 'status5xx', 'transportErrors', 'unexpected', 'p50Us', 'p95Us', 'p99Us'];

/** Everything recorded about one named request of the workload. */
export interface RequestTimeline {
  name: string;
  /** The statuses this request expects; null: any status below 400. */
  expectedStatuses: number[] | null;
  phases: RequestPhaseStats[];
  seconds: RequestSecondColumns;
  /**
   * Outcomes that reached a second already sealed (slower than the recorder's maximum latency,
   * or reported that late): counted in the second, but not in its percentiles. Phases are exact.
   */
  late: number;
}

export interface TimelineData {
  windowMs: number;
  sloLatencyMs: number;
  maxLatencyMs: number;
  seconds: SecondWindow[];
  phases: PhaseStats[];
  ticks: TickSeries;
  /** Per named request of the workload, in workload order (empty when the recorder was given no names). */
  requests: RequestTimeline[];
  /**
   * The seconds (indices, ascending) in which the load planned no arrival: a ramp at rate 0 or past
   * its last stage. Such a second with no outcome is neither healthy nor unhealthy (see health.ts).
   * Absent when not known (the closed and constant open models have none; k6 runs: unknown).
   */
  idle?: number[];
}
