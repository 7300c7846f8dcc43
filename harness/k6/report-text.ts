import type { Detail } from '../core/journal.js';
import type { K6OperatorResult, K6RunResult } from './types.js';

/** The report's caveat for a k6-driven run: from when k6 measures latency, and what that means. */
export const K6_DRIVER_CAVEAT =
  "k6 drove the load (spec.load.driver: k6): latency is k6's http_req_duration, measured from the actual send, not from the intended one. " +
  'With an arrival-rate executor k6 starts iterations on schedule and counts those it cannot start (no free VU) as dropped_iterations, ' +
  'counted here as dropped arrivals (failures without a latency): a stall shows up as drops, not hidden. A script that sends a request only ' +
  "after the previous one answered (constant-vus, sleeps, several requests per iteration) delays what would have met a stall, and percentiles " +
  "understate it (coordinated omission). k6's own thresholds and exit code (99: a threshold crossed) are in the journal (k6.exited), apart from gameday's verdict.";

/**
 * The report's caveat for a k6 operator run: how many runners there were, and that the verdict is
 * global — from the runners' native histograms merged in Prometheus, never an average of per-runner
 * percentiles (k6 alone evaluates thresholds per instance only) — at the push interval's resolution.
 */
export function k6OperatorCaveat(parallelism: number, run: K6OperatorResult | undefined): string {
  const runners = run
    ? `${run.runnerPods} runner pod(s) of ${run.parallelism} asked for (TestRun ${run.testRun}, last stage ${run.lastStage}); ${run.runnersReporting} of them had samples in Prometheus`
    : `${parallelism} runner pod(s) asked for; the run did not get as far as reading Prometheus`;
  const push = run ? `${(run.pushIntervalMs / 1000).toFixed(1)} s` : 'the runners\' push interval';
  return (
    `k6 drove the load on the cluster through the k6 operator: ${runners}. The verdict is global: every figure comes from the runners' samples ` +
    'remote-written to Prometheus, latency percentiles from their native histograms merged there (never an average of per-runner percentiles; ' +
    "k6 itself evaluates thresholds per runner only, so k6's own thresholds and exit codes are not part of it). Its time resolution is the push " +
    `interval (${push}): Prometheus holds each runner's cumulative histograms as of its pushes, so outcomes are known per push, and RTO and per-second figures are only as fine as that. ` +
    "Latency is k6's http_req_duration, measured from the actual send; arrivals a runner could not start (no free VU) are its dropped_iterations, counted as dropped arrivals."
  );
}

/** k6's own outcome as the journal's flat detail (event k6.exited): k6's verdict, never gameday's. */
export function k6JournalDetail(r: K6RunResult): Detail {
  const list = (crossed: boolean): string =>
    Object.entries(r.thresholds)
      .flatMap(([metric, t]) => Object.entries(t).filter(([, c]) => c === crossed).map(([src]) => `${metric}: ${src}`))
      .join('; ');
  return {
    exitCode: r.exitCode,
    meaning: r.exitCode === 0 ? 'k6 thresholds held' : r.exitCode === 99 ? 'k6 thresholds crossed' : r.exitCode === 105 ? 'interrupted by gameday (run end, Ctrl-C or abort guard)' : 'other',
    stoppedByGameday: r.stoppedByGameday,
    thresholdsCrossed: list(true),
    thresholdsHeld: list(false),
    unnamedRequests: Object.entries(r.unnamed).map(([n, c]) => `${n || '(no name tag)'}=${c}`).join(', '),
    badLines: r.badLines,
  };
}
