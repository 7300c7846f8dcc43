import type { Workload } from './workload.js';
import type { WorkloadPlan } from './workload-plan.js';
import type { TargetAccess } from './loopback.js';
import type { WarmConnections } from './warm.js';
import type { K6Plan, K6RunResult } from '../k6/types.js';

/**
 * The load stage: drives requests at the service and reports every outcome to a sink.
 * It never prints and never aggregates; the timeline stage implements the sink.
 */

/** How a request failed below HTTP. Kept apart from HTTP statuses everywhere. */
export type TransportErrorKind = 'refused' | 'reset' | 'timeout' | 'closed' | 'other' | 'tls';
export const TRANSPORT_ERROR_KINDS: readonly TransportErrorKind[] = ['refused', 'reset', 'timeout', 'closed', 'other', 'tls'];

/** The operations of the reference Task API that a request mix draws from. */
export type OperationName = 'get' | 'list' | 'create' | 'update' | 'delete';
export const OPERATION_NAMES: readonly OperationName[] = ['get', 'list', 'create', 'update', 'delete'];

/** A weight for one request of the Task API preset (`load.mix` in a scenario). */
export interface MixEntry {
  op: OperationName;
  /** Relative weight (the default mix uses percentages: get 80, create 10, update 5, list 5). */
  weight: number;
}

/** spec.load.driver k6: k6 sends the load (harness/load/k6-driver.ts); absent: gameday's own drivers. */
export type LoadPlan = LoadModelPlan & { k6?: K6Plan };

type LoadModelPlan =
  | {
      model: 'closed';
      /** Concurrent connections, each with one request in flight. */
      connections: number;
      timeoutMs: number;
      workload: WorkloadPlan;
      seed: number;
    }
  | {
      model: 'open';
      /** Constant arrival rate. */
      ratePerSec: number;
      /** Keep-alive connections to spread arrivals over. */
      connections: number;
      /** Arrivals beyond this many outstanding requests are dropped and counted (k6's dropped_iterations). */
      maxInFlight: number;
      timeoutMs: number;
      workload: WorkloadPlan;
      seed: number;
    }
  | {
      /** The open model with a rate that ramps (k6's ramping-arrival-rate, timeUnit 1s). */
      model: 'ramping';
      /** The arrival rate at the start, per second. */
      startRatePerSec: number;
      /** In order; arrivals end with the last stage. */
      stages: RampStage[];
      connections: number;
      /** As the open model's, for the ramp's peak rate. */
      maxInFlight: number;
      timeoutMs: number;
      workload: WorkloadPlan;
      seed: number;
    };

/** The rate moves linearly from the previous stage's target (or the start rate) to `toPerSec` over `overMs` (0: a jump). */
export interface RampStage {
  toPerSec: number;
  overMs: number;
}

/**
 * Receives every outcome. Called on the hot path: implementations must not allocate per call
 * beyond what they need, and must not throw.
 * - `endMs`: run-clock time the outcome was observed.
 * - `latencyMs`: from the intended send time (open model) or the actual send time (closed model).
 * - `op`: index of the request in the plan's workload.
 */
export interface ResponseSink {
  response(op: number, endMs: number, latencyMs: number, status: number): void;
  transportError(op: number, endMs: number, latencyMs: number, kind: TransportErrorKind): void;
  /** Open model only: an arrival that found `maxInFlight` requests outstanding and was not sent. */
  dropped?(op: number, atMs: number): void;
}

/** A write the service acknowledged with 2xx: what the durability check verifies after the run. */
export interface AcknowledgedWrite {
  op: 'create' | 'update' | 'delete';
  /** The workload request that made it. */
  request?: string;
  /** The entity's id as a number: the Task API's ids (the database check reads those); NaN when `key` is not one. */
  id: number;
  /** The entity's id as the service gave it, for a write read back over HTTP (absent: String(id)). */
  key?: string;
  atMs: number;
  /** The fields as acknowledged by the service (absent for delete). */
  fields?: Record<string, unknown>;
}

/** `allowHosts` and `tls` (TargetAccess): the host policy and TLS applied at every connection. */
export interface LoadTarget extends TargetAccess {
  /** Base URL of the service: loopback or an allowed host (validated before any load starts). */
  url: string;
  /** Starting values of the workload's pools, by pool name (see pools.ts fillPools). */
  pools: ReadonlyMap<string, readonly string[]>;
  /** Told when a request finds a pool empty (the arrival is not sent; counted in `skipped`). */
  onPoolEmpty?: (pool: string) => void;
  /**
   * The plan's workload, already built (its templates compiled): a run builds it before its
   * clock's zero so the load starts on time. Absent: the driver builds it from the plan and `pools`.
   */
  workload?: Workload;
  /**
   * Open and ramping models: connections opened before the run's zero (openConnections), taken by
   * the pool before it opens any of its own; those not taken are closed when the run ends.
   */
  warm?: WarmConnections;
}

export interface LoadSummary {
  /** Requests written (or handed to the connection pool). */
  sent: number;
  /**
   * Requests whose outcome was reported (a response or a transport error). Equal to `sent` once
   * `done` resolves: in-flight requests are drained on stop, and past their timeout reported as one.
   */
  completed: number;
  /** Open model: arrivals not sent because `maxInFlight` were outstanding. */
  dropped: number;
  /** In the order acknowledged. */
  acknowledgedWrites: AcknowledgedWrite[];
  /** Arrivals not sent because a pool their request needs was empty, by pool. */
  skipped: Record<string, number>;
  /** spec.load.driver k6: k6's exit code and thresholds, journaled next to gameday's verdict. */
  k6?: K6RunResult;
}

export interface LoadRun {
  /** Resolves when the load stopped (by `stop()` or its signal) and every outcome was reported. */
  readonly done: Promise<LoadSummary>;
  stop(): void;
}

/** Watches the load generator itself (its send lag behind the schedule). Hot path: O(1), no allocation. */
export interface LoadObserver {
  sendLag(intendedMs: number, actualMs: number): void;
}

export interface LoadDriver {
  start(target: LoadTarget, sink: ResponseSink, signal: AbortSignal): LoadRun;
}
