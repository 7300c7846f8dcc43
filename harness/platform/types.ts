import type { K6OperatorSite } from '../load/k6-operator-driver.js';
import type { EventSink } from '../core/journal.js';
import type { FaultInjector } from '../faults/types.js';
import type { ReplicaResources } from '../observe/replica-probe.js';
import type { FaultPlan, NetworkDelaySpec } from '../scenario/plan.js';

/**
 * The platform stage: brings the system under test up, keeps it running (replacing what dies),
 * exposes it behind one Service address, and tears it all down. Local processes today; a
 * Kubernetes platform implements the same interface with Deployments, Services and watches.
 *
 * Nothing here names a process, a port or a signal: what only one platform has (pids, loopback
 * ports, POSIX signals) stays behind that platform. What a platform can do beyond deploying is
 * an optional capability (`replicaControl`, `networkControl`, `Deployment.resources`,
 * `Deployment.replicaHttp`, `injectorFor`); callers test for the capability, never for the kind.
 */

/**
 * A replica's lifecycle, as a pod's: created (`Pending`), its container being started
 * (`ContainerCreating`), running but not yet passing readiness (`Running`), serving (`Ready`),
 * going away (`Terminating`) and gone (`Terminated`). A platform that cannot see a phase skips it.
 */
export type ReplicaPhase = 'Pending' | 'ContainerCreating' | 'Running' | 'Ready' | 'Terminating' | 'Terminated';
export const REPLICA_PHASES: readonly ReplicaPhase[] = ['Pending', 'ContainerCreating', 'Running', 'Ready', 'Terminating', 'Terminated'];

export interface ReplicaStatus {
  /** The replica's (pod's) name, unique within the run. */
  name: string;
  /** Receiving traffic from the Service (readiness probe passing). */
  ready: boolean;
  /** Run-clock instant the replica was created (pod ADDED, process spawned). */
  startedAtMs: number;
  readyAtMs?: number;
  /** The replica this one was started to replace, if any. */
  replaces?: string;
  /** Its current phase, when the platform tracks phases. */
  phase?: ReplicaPhase;
}

/** How a replica is killed: at once (SIGKILL, a pod deleted with grace 0), or asked to stop first (SIGTERM / a graceful delete). */
export type KillMode = { how: 'kill' } | { how: 'terminate'; graceMs: number };

export interface KillResult {
  /** False when the replica was already gone. */
  killed: boolean;
  /** What the journal's `replica.killed` event says about how (local: signal and pid; a cluster: the pod's uid). */
  detail: Record<string, string | number | boolean | null>;
}

/** Capability: kill replicas (pod-kill). A platform without it cannot run pod-kill faults. */
export interface ReplicaControl {
  kill(name: string, mode: KillMode): Promise<KillResult>;
}

/**
 * What a network fault acts on: the platform's database (replicas → PostgreSQL), the replicas
 * themselves, or pods chosen by labels (platforms with labels).
 */
export type NetworkTarget = { kind: 'database' } | { kind: 'replicas' } | { kind: 'labels'; labels: Readonly<Record<string, string>> };

/** NetworkChaos `delay`: latency ± jitter with correlation, on traffic to the target, from it, or both. */
export interface NetworkDelayRequest {
  target: NetworkTarget;
  delay: NetworkDelaySpec;
  direction: 'to' | 'from' | 'both';
}

/** Capability: delay network traffic (network-delay). */
export interface NetworkControl {
  /** Whether this platform can delay traffic of `target` (the local platform: the database only). */
  supports(target: NetworkTarget): boolean;
  /** Starts delaying; resolves once the delay is in effect. */
  delay(request: NetworkDelayRequest): Promise<void>;
  /** Ends the delay on `target`; idempotent, safe when none was set. */
  clearDelay(target: NetworkTarget): Promise<void>;
}

/** One HTTP exchange with one replica, bypassing the Service (the Task API's fault endpoints). */
export interface ReplicaRequest {
  method: 'GET' | 'POST';
  /** Path and query, e.g. /faults/leak. */
  path: string;
  /** A JSON body. */
  body?: unknown;
  timeoutMs: number;
}

/** Capability: reach one replica directly (local: its loopback port; a cluster: a port-forward to the pod). */
export interface ReplicaHttp {
  request(replica: string, req: ReplicaRequest): Promise<{ status: number; body: string }>;
}

/**
 * Capability: read one replica's resources (RSS, open fds, pool gauges). Local reads /proc and
 * the replica's /metrics; a cluster reads the metrics API or the pods' /metrics. A probe that
 * fails leaves its value null and says why in `errors`; never rejects.
 */
export interface ReplicaResourceProbe {
  probe(replica: string, timeoutMs: number): Promise<ReplicaResources>;
}

export interface Deployment {
  /** The Service's front address (local: http://127.0.0.1:port; a cluster: a port-forward or the user's URL). */
  readonly serviceUrl: string;
  /** The database the replicas use, when the harness can reach it (for harness-side checks). */
  readonly databaseUrl?: string;
  /** Each replica's database pool size, when the platform configured it. */
  readonly poolSize?: number;
  /** Ids of the deterministic seed rows, when the platform seeded them. */
  readonly seededIds?: { min: number; max: number };
  /** The server side's view: a Prometheus scraping every replica, or why there is none. */
  readonly prometheus?: { url: string } | { skipped: string };
  /**
   * Resolves once that Prometheus has scraped every replica once (each counter has a first sample);
   * rejects at the timeout or on abort. The load need not wait for it: only the first judged window
   * (from the end of warm-up) needs that baseline.
   */
  waitScraped?(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Resource sampling, when the platform can read replicas' resources. */
  readonly resources?: ReplicaResourceProbe;
  /** Direct requests to one replica, when the platform can route them. */
  readonly replicaHttp?: ReplicaHttp;
  replicas(): ReplicaStatus[];
}

export interface Platform {
  /** The platform's name, for messages and the journal ('local', 'external', 'kubernetes'…); never branch on it. */
  readonly kind: string;
  deploy(signal: AbortSignal): Promise<Deployment>;
  readonly replicaControl?: ReplicaControl;
  readonly networkControl?: NetworkControl;
  /** Backup, loss and restore of the database the platform owns (the disaster-recovery drill); absent when it owns none. */
  readonly databaseRecovery?: DatabaseRecovery;
  /**
   * The platform's own injector for a fault, when it injects that kind its own way (Kubernetes:
   * Chaos Mesh objects); undefined lets the fault registry's injector act through the controls above.
   */
  injectorFor?(plan: FaultPlan): FaultInjector | undefined;
  /** Kubernetes: where k6 operator runners are applied (spec.load.parallelism); absent elsewhere. */
  k6OperatorSite?(): K6OperatorSite;
  /** Stops everything the platform started. Idempotent; safe to call at any point, even mid-deploy. */
  teardown(): Promise<void>;
}

/** What a backup holds and where it is kept (outside what the disaster destroys). */
export interface DatabaseBackup {
  location: string;
  bytes: number;
  tables: number;
  rows: number;
  checkpointMs: number;
  ms: number;
}

/**
 * The disaster-recovery drill's three acts on the platform's database: a consistent backup (the
 * seed's pre-backup hook: CHECKPOINT, then a dump), the disaster (the database lost: server and
 * data), and the restore from the last backup to a server at the same address. Each resolves
 * with what it did, for the journal.
 */
export interface DatabaseRecovery {
  backup(): Promise<DatabaseBackup>;
  destroy(): Promise<Record<string, string | number | boolean | null>>;
  restore(backup: DatabaseBackup, signal?: AbortSignal): Promise<Record<string, string | number | boolean | null>>;
}

export interface PlatformContext {
  journal: EventSink;
  /** Where per-replica logs go; the platform never writes to the console. */
  logDir?: string;
  /** Start a Prometheus scraping the replicas when a binary is available (local platform). */
  prometheus?: boolean;
}
