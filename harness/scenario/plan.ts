import type { LoadPlan } from '../load/types.js';

/**
 * The validated, frozen form of a scenario: every duration in ms, every default filled in.
 * The runner and every stage after it work only from a Plan, never from the raw file.
 */

export type PhaseName = 'warmup' | 'baseline' | 'fault' | 'recovery' | 'after';
export const PHASE_NAMES: readonly PhaseName[] = ['warmup', 'baseline', 'fault', 'recovery', 'after'];

/** A span of the run clock. `fault` names the scenario fault for fault/recovery spans. */
export interface PhaseSpan {
  phase: PhaseName;
  startMs: number;
  endMs: number;
  fault?: string;
}

export interface ProbePlan {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  /** Consecutive failures before a ready replica is taken out of the Service. */
  failureThreshold: number;
  /** Consecutive successes before a replica receives traffic. */
  successThreshold: number;
}

export type DatabasePlan = { kind: 'embedded' } | { kind: 'url'; url: string };

export interface LocalPlatformPlan {
  kind: 'local';
  replicas: number;
  database: DatabasePlan;
  readinessProbe: ProbePlan;
  pool: { size: number; acquireTimeoutMs: number; statementTimeoutMs: number };
  seedRows: number;
  /** SIGTERM → SIGKILL grace, as a pod's terminationGracePeriodSeconds. */
  terminationGracePeriodMs: number;
}

export interface ExternalPlatformPlan {
  kind: 'external';
  url: string;
}

export type PlatformPlan = LocalPlatformPlan | ExternalPlatformPlan;

/** Chaos Mesh selection modes (PodChaos/NetworkChaos `mode`). */
export type SelectorMode = 'one' | 'all' | 'fixed' | 'fixed-percent';

export interface PodKillFaultPlan {
  kind: 'pod-kill';
  name: string;
  atMs: number;
  durationMs: number;
  mode: SelectorMode;
  /** For `fixed`: a count; for `fixed-percent`: a percentage 0-100. */
  value?: number;
}

/** A discriminated union: new fault kinds are added here and in the fault registry. */
export type FaultPlan = PodKillFaultPlan;
export type FaultKind = FaultPlan['kind'];
export const FAULT_KINDS: readonly FaultKind[] = ['pod-kill'];

export type Comparator = '<' | '<=' | '==' | '>=' | '>';
export type MetricUnit = 'ms' | 'count' | 'ratio' | 'rps';

export type MetricName =
  | 'rto.platform'
  | 'rto.client'
  | 'requests.status5xx'
  | 'requests.transportErrors'
  | 'requests.failures'
  | 'requests.failureRatio'
  | 'latency.p50'
  | 'latency.p95'
  | 'latency.p99'
  | 'latency.max'
  | 'throughput.rps';

export interface CheckPlan {
  id: string;
  name: string;
  metric: MetricName;
  /** Phases the metric is computed over (request and latency metrics). */
  during: PhaseName[];
  comparator: Comparator;
  /** Target value in the metric's unit (ms for durations, 0-1 for ratios). */
  threshold: number;
  /** The target as the scenario wrote it, for reports ("< 30s"). */
  targetText: string;
}

export interface SloPlan {
  /** Client-side latency objective used to detect disruption and draw the SLO line. */
  latencyP95Ms: number;
}

export interface RecoveryPlan {
  /** How long after a fault ends the recovery phase lasts. */
  windowMs: number;
  /** How long clients must see no failures and p95 within the SLO to count as recovered. */
  sustainMs: number;
}

export interface Plan {
  name: string;
  description?: string;
  /** The scenario file this plan came from, when it came from a file. */
  source?: string;
  durationMs: number;
  warmupMs: number;
  platform: PlatformPlan;
  load: LoadPlan;
  faults: FaultPlan[];
  slo: SloPlan;
  recovery: RecoveryPlan;
  checks: CheckPlan[];
  /** The phase spans of the run, in order, covering [0, durationMs). */
  phases: PhaseSpan[];
}
