import type { Clock } from '../core/clock.js';
import type { EventSink } from '../core/journal.js';
import type { Deployment, Platform } from '../platform/types.js';
import type { FaultPlan } from '../scenario/plan.js';

/**
 * A fault is plain data (its FaultPlan) plus an injector with Chaos Mesh's shape: `apply`
 * returns one record per target, `recover(records)` undoes what can be undone and is idempotent,
 * so recovery can always run again — at the end of the fault's duration, on error, on signals.
 */
export interface FaultRecord {
  target: string;
  appliedAtMs: number;
  recoveredAtMs?: number;
  detail?: Record<string, string | number | boolean | null>;
}

export interface FaultContext {
  platform: Platform;
  deployment: Deployment;
  journal: EventSink;
  clock: Clock;
  random: () => number;
  /** The run's logs directory: exec faults write their commands' output there (discarded without it). */
  logDir?: string;
}

export interface FaultInjector<P extends FaultPlan = FaultPlan> {
  readonly plan: P;
  /**
   * `signal` aborts when the fault's recovery starts (its duration is over, or the run ends).
   * An apply that waits on something (opening sessions, taking a lock) then stops waiting and
   * resolves with what it did; one that acts at once (a kill, setting a delay) may ignore it.
   */
  apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]>;
  recover(records: FaultRecord[], ctx: FaultContext): Promise<void>;
}
