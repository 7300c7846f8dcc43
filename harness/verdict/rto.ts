import type { JournalEvent } from '../core/journal.js';
import type { FaultPlan, Plan } from '../scenario/plan.js';
import { clientRtoMs } from '../timeline/client-rto.js';
import { platformRtoMs } from '../timeline/platform-rto.js';
import type { TimelineData } from '../timeline/types.js';
import type { FaultRto } from './types.js';

/** Journal event types that mark the instant a fault took effect. */
export const FAULT_START_TYPES: readonly string[] = ['fault.applied', 'replica.killed', 'network.delayed', 'pool.table-locked', 'pool.connections-held', 'pool.leaked'];

/**
 * When the fault took effect: the earliest journal event of a FAULT_START_TYPES type caused by it,
 * else the planned instant (the injector may have run a little late; the journal knows).
 */
export function faultStartMs(fault: FaultPlan, events: readonly JournalEvent[]): number {
  let at: number | null = null;
  for (const e of events) {
    if (e.fault === fault.name && FAULT_START_TYPES.includes(e.type) && (at === null || e.atMs < at)) at = e.atMs;
  }
  return at ?? fault.atMs;
}

/** Platform and client RTO of every scenario fault. */
export function measureFaultRtos(plan: Plan, timeline: TimelineData, events: readonly JournalEvent[]): FaultRto[] {
  return plan.faults.map((fault) => {
    const atMs = faultStartMs(fault, events);
    return {
      fault: fault.name,
      atMs,
      platform: platformRtoMs(events, fault.name),
      client: clientRtoMs(timeline, atMs, plan.slo, plan.recovery.sustainMs),
    };
  });
}

/** Faults that take replicas out (killed, or broken by a leak): the ones a platform RTO is measured for. */
export function takesReplicasOut(fault: FaultPlan): boolean {
  return fault.kind === 'pod-kill' || (fault.kind === 'pool-exhaustion' && fault.mode === 'leak');
}
