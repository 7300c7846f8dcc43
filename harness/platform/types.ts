import type { EventSink } from '../core/journal.js';
import type { NetworkDelaySpec } from '../scenario/plan.js';

/**
 * The platform stage: brings the system under test up, keeps it running (replacing what dies),
 * exposes it behind one Service address, and tears it all down. Local processes today; a
 * Kubernetes platform implements the same interface with Deployments, Services and watches.
 */

export interface ReplicaStatus {
  name: string;
  pid?: number;
  /** The replica's own port on loopback (bypassing the Service), once it listens. */
  port?: number;
  /** Receiving traffic from the Service (readiness probe passing). */
  ready: boolean;
  startedAtMs: number;
  readyAtMs?: number;
  /** The replica this one was started to replace, if any. */
  replaces?: string;
}

export interface Deployment {
  /** The Service's front address: http://127.0.0.1:port. */
  readonly serviceUrl: string;
  /** The database the replicas use, when the platform owns one (for harness-side checks). */
  readonly databaseUrl?: string;
  /** Each replica's database pool size, when the platform configured it. */
  readonly poolSize?: number;
  /** Ids of the deterministic seed rows, when the platform seeded them. */
  readonly seededIds?: { min: number; max: number };
  /** The server side's view: a Prometheus scraping every replica, or why there is none. */
  readonly prometheus?: { url: string } | { skipped: string };
  replicas(): ReplicaStatus[];
}

/** Capability: kill replicas (pod-kill). A platform without it cannot run pod-kill faults. */
export interface ReplicaControl {
  /** Sends `signal` to the named replica; false if it was already gone. */
  kill(name: string, signal: NodeJS.Signals): boolean;
}

/** Capability: delay traffic between the replicas and the database (network-delay). */
export interface NetworkControl {
  setDatabaseDelay(delay: NetworkDelaySpec, direction: 'to' | 'from' | 'both'): void;
  clearDatabaseDelay(): void;
}

export interface Platform {
  readonly kind: 'local' | 'external';
  deploy(signal: AbortSignal): Promise<Deployment>;
  readonly replicaControl?: ReplicaControl;
  readonly networkControl?: NetworkControl;
  /** Stops everything the platform started. Idempotent; safe to call at any point, even mid-deploy. */
  teardown(): Promise<void>;
}

export interface PlatformContext {
  journal: EventSink;
  /** Where per-replica logs go; the platform never writes to the console. */
  logDir?: string;
  /** Start a Prometheus scraping the replicas when a binary is available (local platform). */
  prometheus?: boolean;
}
