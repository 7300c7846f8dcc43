import type { ConformanceMetric, ConformancePlan } from '../conformance/types.js';
import type { TargetTls } from '../load/loopback.js';
import type { LoadPlan } from '../load/types.js';
import type { KubernetesPlatformPlan } from '../kube/plan.js';

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

/** Any HTTP service as the replicas (spec.platform.local.app), instead of the reference Task API. */
export interface AppPlan {
  /** Replica names are `<name>-<hash>-<suffix>`. */
  name: string;
  /** argv; `node` as the first word is the Node.js running gameday. */
  command: string[];
  env: Record<string, string>;
  /** The replicas' working directory, absolute; absent: where gameday runs. */
  workingDir?: string;
  /** Path of the readiness (and liveness) probe. */
  readinessPath: string;
  /** The platform starts PostgreSQL and sets DATABASE_URL. */
  database: boolean;
}

export interface LocalPlatformPlan {
  kind: 'local';
  replicas: number;
  /** Absent: the reference Task API (bundled, seeded, on PostgreSQL). */
  app?: AppPlan;
  database: DatabasePlan;
  readinessProbe: ProbePlan;
  livenessProbe?: ProbePlan;
  /** Task API fault-injection endpoints to enable (FAULT_INJECTION); only what the scenario's faults need. */
  faultInjection: string[];
  /** Put a latency proxy between the replicas and PostgreSQL (only when a fault needs it). */
  databaseProxy: boolean;
  pool: { size: number; acquireTimeoutMs: number; statementTimeoutMs: number };
  seedRows: number;
  /** SIGTERM → SIGKILL grace, as a pod's terminationGracePeriodSeconds. */
  terminationGracePeriodMs: number;
}

export interface ExternalPlatformPlan {
  kind: 'external';
  url: string;
  /** Non-loopback hosts that may be reached (as Plan.allowHosts): the URL's host when it is not loopback. */
  allowHosts?: string[];
  /** https: the CA, client certificate and server name read from spec.target.tls (key material is a Secret). */
  tls?: TargetTls;
}

/** kubernetes: harness/kube/plan.ts. */
export type PlatformPlan = LocalPlatformPlan | ExternalPlatformPlan | KubernetesPlatformPlan;

/** Chaos Mesh selection modes (PodChaos/NetworkChaos `mode`). */
export type SelectorMode = 'one' | 'all' | 'fixed' | 'fixed-percent';

/** NetworkChaos `delay` semantics: latency ± jitter, correlation 0-100, on one direction or both. */
export interface NetworkDelaySpec {
  latencyMs: number;
  jitterMs: number;
  correlation: number;
}

/** One command of an exec fault: argv run without a shell, or one string run by /bin/sh -c. */
export type ExecCommand = { shell: false; argv: string[] } | { shell: true; script: string };

export interface ExecActionPlan {
  command: ExecCommand;
  timeoutMs: number;
  /** Added to the harness's environment. Secret: never journalled. */
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
}

export interface HttpActionPlan {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Secret: never journalled. */
  headers: Record<string, string>;
  /** Secret: never journalled. */
  body?: string;
  /** Accepted statuses; absent: any 2xx. */
  expectStatus?: number[];
  timeoutMs: number;
  /** Non-loopback hosts it may reach (Plan.allowHosts), enforced again at its socket. */
  allowHosts?: string[];
}

/**
 * Every fault kind's plan, by kind. Each kind's module (faults/kinds/<kind>.ts) declares its plan
 * and adds it here (`declare module … interface FaultPlans`), so FaultPlan is a discriminated
 * union on `kind` that no list needs to name.
 */
export interface FaultPlans {}
export type FaultPlan = FaultPlans[keyof FaultPlans];
export type FaultKind = FaultPlan['kind'];
export type { PodKillFaultPlan } from '../faults/kinds/pod-kill.js';
export type { NetworkDelayFaultPlan } from '../faults/kinds/network-delay.js';
export type { PoolExhaustionFaultPlan } from '../faults/kinds/pool-exhaustion.js';
export type { ExecFaultPlan } from '../faults/kinds/exec.js';
export type { HttpFaultPlan } from '../faults/kinds/http.js';

/** Resources sampled through a run (sums over replicas), whose recovery after a fault is judged. */
export const RESOURCE_NAMES = ['db_connections', 'db_pool_total', 'db_pool_active', 'db_pool_idle', 'db_pool_wait_count', 'rss_bytes', 'open_fds'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

export interface ResourcesPlan {
  /** One tolerance for every resource; absent: each resource's own default. */
  tolerance?: { relative: number; absolute: number };
  sustainMs: number;
}

export interface AbortPlan {
  failureRatio: number;
  forMs: number;
}

export type Comparator = '<' | '<=' | '==' | '>=' | '>';
export type MetricUnit = 'ms' | 'count' | 'ratio' | 'rps';

export type MetricName =
  | 'rto.platform'
  | 'rto.client'
  | 'requests.status5xx'
  | 'requests.transportErrors'
  | 'requests.dropped'
  | 'requests.failures'
  | 'requests.failureRatio'
  | 'requests.unexpected'
  | 'latency.p50'
  | 'latency.p95'
  | 'latency.p99'
  | 'latency.max'
  | 'throughput.rps'
  | 'resources.recoveryTime'
  | 'resources.leaked'
  | 'durability.lostWrites'
  | 'durability.lostOutsideRpo'
  | 'rto.restore'
  | 'rpo.span'
  | 'rpo.lostWrites'
  | 'promql'
  | ConformanceMetric;

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
  /** resources.* metrics: the resource judged (absent: the worst of them). */
  resource?: ResourceName;
  /** Restrict the check to one fault: its fault/recovery spans, its RTO. */
  fault?: string;
  /** Request and latency metrics: judge only this workload request's outcomes. */
  request?: string;
  /** metric promql: the PromQL expression, `$__window` standing for the phase window's length. */
  query?: string;
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

/** Allowed growth of a metric before the regression gate looks at it: the larger of the two. */
export interface Tolerance {
  /** Fraction of the baseline value (0.2 = 20 %). */
  relative: number;
  /** In the metric's unit (ms or count). */
  absolute: number;
}

export type RegressionMetric = 'latency.p95' | 'latency.p99' | 'rto.client' | 'rto.platform' | 'requests.failures' | 'resources.recovery';

export interface RegressionPlan {
  tolerances: Record<RegressionMetric, Tolerance>;
  /** Confidence that a latency change is beyond its tolerance before it is called a regression. */
  confidence: number;
}

/** An existing Prometheus for the servers' view (spec.observe.prometheus or --prometheus). */
export interface PrometheusPlan {
  url: string;
  /** The variable holding the bearer token; the token itself is read when querying, never stored. */
  bearerTokenEnv?: string;
  /** Label matchers such as {namespace="staging"}, added to the seed's queries. */
  selector?: string;
  /** k6 operator runners remote-write here (in-cluster address); absent: url + /api/v1/write. */
  remoteWriteUrl?: string;
  /**
   * spec.observe.prometheus.tls, read at planning: CA certificates trusted instead of the system
   * CAs, a client certificate and its key (a Secret) for a Prometheus that asks for one, the name checked.
   */
  tls?: TargetTls;
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
  abort?: AbortPlan;
  resources: ResourcesPlan;
  /** Regression-gate tolerances; toPlan always fills it (hand-built plans may omit it: defaults apply). */
  regression?: RegressionPlan;
  /** The phase spans of the run, in order, covering [0, durationMs). */
  phases: PhaseSpan[];
  /**
   * Canonical non-loopback hosts that may receive traffic (spec.target.allowHosts and --allow-host);
   * absent or empty: loopback only. Every sender applies it at its sockets.
   */
  allowHosts?: string[];
  /** An existing Prometheus to read the servers' view from, instead of one the platform starts. */
  prometheus?: PrometheusPlan;
  /** spec.conformance (or conformance.* checks): what the conformance metrics read and expect. */
  conformance?: ConformancePlan;
}
