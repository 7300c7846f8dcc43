import type { JournalEvent } from '../core/journal.js';
import type { LoadSummary } from '../load/types.js';
import type { Plan, RegressionPlan } from '../scenario/plan.js';
import { DEFAULT_REGRESSION } from '../scenario/regression.js';
import type { Disruption, PhaseStats, SecondWindow, TimelineData } from '../timeline/index.js';
import { selectPhases } from '../timeline/index.js';
import type { DurabilityReport } from '../observe/durability.js';
import type { LagSecond, LagSummary } from '../run/lag-monitor.js';
import type { ResourceSeries } from '../observe/series.js';
import { rtoOf, type CheckResult, type FaultResources, type FaultRto, type Verdict } from '../verdict/index.js';
import { hdrBlock, latencyDistributions, type HdrBlock, type PhaseDistribution } from './hdr-block.js';
import { requestsByName, type RequestFigures } from './requests.js';
import { K6_DRIVER_CAVEAT, k6OperatorCaveat } from '../k6/report-text.js';
import type { ServerBlock } from '../observe/server-compare.js';

/** What the analysis of a run hands to the reports. */
export interface RunAnalysis {
  timeline: TimelineData;
  events: JournalEvent[];
  disruptions: Disruption[];
  rtos: FaultRto[];
  verdict: Verdict;
  /** Sampled resources and how they recovered after each fault (local platform runs). */
  resources?: ResourcesBlock;
  durability?: DurabilityReport;
  /** Notes on the run that qualify its figures (e.g. seconds in which the harness itself stalled). */
  caveats?: string[];
  /** The load generator's own event-loop delay and send lag per second. */
  harnessLag?: HarnessLag;
  /** The servers' view (Prometheus) beside the clients', per phase; or why it was skipped. */
  server?: ServerBlock;
}

export type HarnessLag = LagSummary & { seconds: LagSecond[] };

export interface ResourcesBlock {
  /** Once a second: per replica and `total`, [run-clock ms, value] points. */
  series: ResourceSeries[];
  /** Per fault: baseline, peak, recovery time or leak, per resource (`total`) and replica. */
  recovery: FaultResources[];
}

/**
 * 2: adds `hdr` (encoded histograms), `latencyDistribution` and `regression` (gate tolerances).
 * 3: outcomes placed by their (intended) send time; every outcome timed (transport errors too);
 *    dropped arrivals are failures; adds `requests.arrivals|failures`, `latency.served`, `caveats`.
 * 4: per workload request: `requests.byName` (overall, per phase, per second) and `hdr.requests`;
 *    `unexpected` (statuses a request does not expect, 5xx apart) in `requests`, phases and seconds.
 */
export const RESULT_SCHEMA_VERSION = 4;

type Window = Omit<SecondWindow, 'histogram'>;
type Phase = Omit<PhaseStats, 'histogram'>;

/** result.json: the whole run as data. Every report is rendered from this alone. */
export interface ResultDocument {
  schemaVersion: number;
  scenario: { name: string; description?: string; file?: string };
  /** Did the harness do its job (completed), or not (error, interrupted)? */
  runStatus: string;
  /** Did the system hold? */
  verdict: Verdict['status'];
  passed: boolean;
  checks: CheckResult[];
  rto: { platformMs: number | null; clientMs: number | null; faults: FaultRto[] };
  /**
   * Requests meant to be sent after warm-up: `total` outcomes (responses + transport errors),
   * `arrivals` = total + dropped, `failures` = 5xx + transport errors + dropped; `unexpected`:
   * responses of a status their request does not expect (not 5xx). `byName`: each workload request.
   */
  requests: { total: number; arrivals: number; responses: number; status5xx: number; transportErrors: number; transportErrorKinds: Record<string, number>; dropped: number; failures: number; unexpected: number; byName: Record<string, RequestFigures> };
  /** What the load driver sent over the whole run, warm-up included. */
  /** `skipped`: arrivals not sent because a pool their request needed was empty, by pool. */
  load?: { sent: number; completed: number; dropped: number; acknowledgedWrites: number; skipped: Record<string, number> };
  /** Every outcome's latency (see `over`); `served`: responses below 500 only, a secondary figure. */
  latency: { p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; maxMs: number | null; over: string; served: { p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; maxMs: number | null } };
  /** What a reader must know to trust the figures (closed-model bias, harness stalls...). */
  caveats: string[];
  /** The load generator's own lag per second (event-loop delay, send lag behind schedule) and its stalled seconds. */
  harnessLag?: HarnessLag;
  slo: { latencyP95Ms: number };
  phases: Phase[];
  disruptions: Disruption[];
  timeline: Window[];
  journal: JournalEvent[];
  meta: Record<string, unknown>;
  /** Per-phase percentile curves (the HTML report's HdrHistogram plot). */
  latencyDistribution: PhaseDistribution[];
  /** The latency histograms themselves: the interval log and the regression gate are built from them. */
  hdr: HdrBlock;
  /** The scenario's regression-gate tolerances, so `gameday compare` needs nothing but result files. */
  regression: RegressionPlan;
  resources?: ResourcesBlock;
  /** The servers' view (Prometheus) beside the clients', per phase, differences explained; or why it was skipped. */
  server?: ServerBlock;
  /** Every write acknowledged with 2xx, verified against the database after the run. */
  durability?: { acknowledged: number; checked: number; lostWrites: number; lostByOp: Record<string, number>; lost: DurabilityReport['lost'] };
}

const MEASURED = ['baseline', 'fault', 'recovery', 'after'] as const;

const FROM_INTENDED =
  'every request meant to be sent after warm-up: responses of any status and transport errors (a timeout at its elapsed time), ' +
  'from the intended send time (coordinated omission corrected); dropped arrivals have no latency and count as failures';

/** Which outcomes the headline percentiles cover, and from when latency is measured. */
export const LATENCY_OVER: Record<Plan['load']['model'], string> = {
  open: FROM_INTENDED,
  ramping: FROM_INTENDED,
  closed:
    'every request sent after warm-up: responses of any status and transport errors (a timeout at its elapsed time), ' +
    'from the actual send time (closed model: coordinated-omission bias)',
};

/** k6 sends the load: its samples, whatever the scenario's model (a team's script has its own executors). */
const K6_OVER =
  "every request k6 sent after warm-up (its http_req_duration samples; setup() and teardown() left out): responses of any status and " +
  "transport errors, from the actual send (k6's measure, see the caveat); dropped_iterations have no latency and count as failures";

/** Which outcomes the headline percentiles cover: the model's, or k6's when k6 drove the load. */
export function latencyOver(plan: Plan): string {
  if (plan.load.k6?.operator) return `${K6_OVER}; all runners together, known per push interval`;
  return plan.load.k6 ? K6_OVER : LATENCY_OVER[plan.load.model];
}

/** The closed model waits for each answer before sending the next: a stall hides most of its victims. */
export const CLOSED_MODEL_CAVEAT =
  'closed model: latency is measured from the actual send, so a stalled service delays the requests that would have met the stall ' +
  'and percentiles understate it (coordinated omission). Use the open model (load.model: open, a rate) to measure from the intended send time.';

function caveats(plan: Plan, a: RunAnalysis, load?: LoadSummary): string[] {
  const out: string[] = [];
  if (plan.load.k6?.operator) out.push(k6OperatorCaveat(plan.load.k6.operator.parallelism, load?.k6?.operator));
  else if (plan.load.k6) out.push(K6_DRIVER_CAVEAT);
  else if (plan.load.model === 'closed') out.push(CLOSED_MODEL_CAVEAT);
  out.push(...(a.caveats ?? []));
  return out;
}

export function buildResult(plan: Plan, a: RunAnalysis, runStatus: string, meta: object, load?: LoadSummary): ResultDocument {
  const all = selectPhases(a.timeline, MEASURED);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    scenario: { name: plan.name, ...(plan.description ? { description: plan.description } : {}), ...(plan.source ? { file: plan.source } : {}) },
    runStatus,
    verdict: a.verdict.status,
    passed: a.verdict.passed && runStatus === 'completed',
    checks: a.verdict.checks,
    // The worst over the faults, as the verdict's RTO checks judge it (null when one did not recover).
    rto: { platformMs: rtoOf(plan, a.rtos, 'platform').actual, clientMs: rtoOf(plan, a.rtos, 'client').actual, faults: a.rtos },
    requests: {
      total: all.count,
      arrivals: all.arrivals,
      responses: all.responses,
      status5xx: all.status5xx,
      transportErrors: all.transportErrors.total,
      transportErrorKinds: { ...all.transportErrors },
      dropped: all.dropped,
      failures: all.failures,
      unexpected: all.unexpected,
      byName: requestsByName(a.timeline, MEASURED),
    },
    ...(load ? { load: { sent: load.sent, completed: load.completed, dropped: load.dropped, acknowledgedWrites: load.acknowledgedWrites.length, skipped: { ...load.skipped } } } : {}),
    latency: {
      p50Ms: all.p50Ms,
      p95Ms: all.p95Ms,
      p99Ms: all.p99Ms,
      maxMs: all.maxMs,
      over: latencyOver(plan),
      served: { p50Ms: all.served.p50Ms, p95Ms: all.served.p95Ms, p99Ms: all.served.p99Ms, maxMs: all.served.maxMs },
    },
    caveats: caveats(plan, a, load),
    ...(a.harnessLag ? { harnessLag: a.harnessLag } : {}),
    slo: { latencyP95Ms: plan.slo.latencyP95Ms },
    phases: a.timeline.phases.map(({ histogram: _h, ...rest }) => rest),
    disruptions: a.disruptions,
    timeline: a.timeline.seconds.map(({ histogram: _h, ...rest }) => rest),
    journal: a.events,
    meta: { ...meta },
    latencyDistribution: latencyDistributions(a.timeline),
    hdr: hdrBlock(a.timeline),
    regression: plan.regression ?? DEFAULT_REGRESSION,
    ...(a.resources ? { resources: a.resources } : {}),
    ...(a.server ? { server: a.server } : {}),
    ...(a.durability
      ? { durability: { acknowledged: a.durability.acknowledged, checked: a.durability.checked, lostWrites: a.durability.lostTotal, lostByOp: { ...a.durability.lostByOp }, lost: a.durability.lost } }
      : {}),
  };
}
