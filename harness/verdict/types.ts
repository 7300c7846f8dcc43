import type { JournalEvent } from '../core/journal.js';
import type { LostWrite } from '../observe/durability.js';
import type { Comparator, MetricName, MetricUnit } from '../scenario/plan.js';
import type { ClientRto } from '../timeline/client-rto.js';
import type { PlatformRto } from '../timeline/platform-rto.js';
import type { ResourceRecovery } from '../timeline/resource-recovery.js';
import type { TimelineData } from '../timeline/types.js';

/** Both recovery times of one scenario fault. */
export interface FaultRto {
  fault: string;
  /** The instant the fault took effect (run clock) that the client RTO is measured from. */
  atMs: number;
  platform: PlatformRto;
  client: ClientRto;
}

/** Everything the verdict is computed from. */
export interface RunFacts {
  timeline: TimelineData;
  events: readonly JournalEvent[];
  /** One per scenario fault (see `measureFaultRtos`). */
  rtos: readonly FaultRto[];
  /** Set by the caller when a guard aborted the run: the checks are still computed, the verdict is `aborted`. */
  aborted?: boolean;
  /** Resource recovery per fault (sampled runs only). */
  resources?: readonly FaultResources[];
  /** The durability check of acknowledged writes (runs whose platform owns the database). */
  durability?: { checked: number; lostTotal: number; unread?: number; lost?: readonly LostWrite[] };
  /** The value of each promql check (by id), evaluated on Prometheus after the run; null actual: no data. */
  promql?: ReadonlyMap<string, { actual: number | null; detail?: string }>;
  /** The conformance metrics' findings (static manifests or the cluster), when the plan has spec.conformance. */
  conformance?: ReadonlyMap<string, { actual: number | null; detail: string; shown: string; expected?: string; notEvaluated?: string }>;
}

/** How each sampled resource came back after one fault. */
export interface FaultResources {
  fault: string;
  recoveries: ResourceRecovery[];
}

export interface CheckResult {
  id: string;
  name: string;
  metric: MetricName;
  /** The workload request the check judged alone, when it named one. */
  request?: string;
  /** The target as the scenario wrote it ("< 30s"). */
  target: string;
  threshold: number;
  comparator: Comparator;
  /** null when the metric could not be measured (not recovered, no responses...): the check fails. */
  actual: number | null;
  unit: MetricUnit;
  passed: boolean;
  detail?: string;
  /**
   * Why the check could not be evaluated where it ran (no OpenCost, no live VPA): neither passed
   * nor failed; the verdict does not count it, every report shows it as NOT EVALUATED.
   */
  notEvaluated?: string;
  /** What a summary row shows as the actual value, when a number would not say it ("4 labels", "720h"). */
  shown?: string;
  /** What the criterion asks, when the target is a count of problems ("0 2 * * *", "ttl 720h"). */
  expected?: string;
}

/**
 * Did the system hold? `passed` only when every check passed and the run was not aborted.
 * Whether the harness itself worked is reported elsewhere (as chaostoolkit's status vs deviated).
 */
export type VerdictStatus = 'passed' | 'failed' | 'aborted';

export interface Verdict {
  status: VerdictStatus;
  passed: boolean;
  checks: CheckResult[];
}
