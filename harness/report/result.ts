import type { JournalEvent } from '../core/journal.js';
import type { LoadSummary } from '../load/types.js';
import type { Plan, RegressionPlan } from '../scenario/plan.js';
import { DEFAULT_REGRESSION } from '../scenario/regression.js';
import type { Disruption, PhaseStats, SecondWindow, TimelineData } from '../timeline/index.js';
import { selectPhases } from '../timeline/index.js';
import type { DurabilityReport } from '../observe/durability.js';
import type { ResourceSeries } from '../observe/series.js';
import { rtoOf, type CheckResult, type FaultResources, type FaultRto, type Verdict } from '../verdict/index.js';
import { hdrBlock, latencyDistributions, type HdrBlock, type PhaseDistribution } from './hdr-block.js';

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
}

export interface ResourcesBlock {
  /** Once a second: per replica and `total`, [run-clock ms, value] points. */
  series: ResourceSeries[];
  /** Per fault: baseline, peak, recovery time or leak, per resource (`total`) and replica. */
  recovery: FaultResources[];
}

/** 2: adds `hdr` (encoded histograms), `latencyDistribution` and `regression` (gate tolerances). */
export const RESULT_SCHEMA_VERSION = 2;

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
  /** Outcomes after warm-up, by completion time. */
  requests: { total: number; responses: number; status5xx: number; transportErrors: number; transportErrorKinds: Record<string, number>; dropped: number };
  /** What the load driver sent over the whole run, warm-up included. */
  load?: { sent: number; completed: number; dropped: number; acknowledgedWrites: number };
  latency: { p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; maxMs: number | null; over: string };
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
  /** Every write acknowledged with 2xx, verified against the database after the run. */
  durability?: { acknowledged: number; checked: number; lostWrites: number; lostByOp: Record<string, number>; lost: DurabilityReport['lost'] };
}

const MEASURED = ['baseline', 'fault', 'recovery', 'after'] as const;

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
      responses: all.responses,
      status5xx: all.status5xx,
      transportErrors: all.transportErrors.total,
      transportErrorKinds: { ...all.transportErrors },
      dropped: all.dropped,
    },
    ...(load ? { load: { sent: load.sent, completed: load.completed, dropped: load.dropped, acknowledgedWrites: load.acknowledgedWrites.length } } : {}),
    latency: { p50Ms: all.p50Ms, p95Ms: all.p95Ms, p99Ms: all.p99Ms, maxMs: all.maxMs, over: 'all phases after warm-up' },
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
    ...(a.durability
      ? { durability: { acknowledged: a.durability.acknowledged, checked: a.durability.checked, lostWrites: a.durability.lostTotal, lostByOp: { ...a.durability.lostByOp }, lost: a.durability.lost } }
      : {}),
  };
}
