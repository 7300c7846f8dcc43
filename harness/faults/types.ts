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
}

export interface FaultInjector<P extends FaultPlan = FaultPlan> {
  readonly plan: P;
  apply(ctx: FaultContext): Promise<FaultRecord[]>;
  recover(records: FaultRecord[], ctx: FaultContext): Promise<void>;
}
