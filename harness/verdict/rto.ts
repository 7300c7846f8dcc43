import { isEvent, type JournalEvent } from '../core/journal.js';
import { faultEffectEvents, faultKind, replicaLostEvents } from '../faults/kinds/index.js';
import type { FaultPlan, Plan } from '../scenario/plan.js';
import { clientRtoMs } from '../timeline/client-rto.js';
import { platformRtoMs } from '../timeline/platform-rto.js';
import { firstDisruptedTick } from '../timeline/tick-scan.js';
import type { TimelineData } from '../timeline/types.js';
import type { FaultRto } from './types.js';

/** Journal event types that mark the instant a fault took effect (each fault kind's module lists its own). */
export const FAULT_START_TYPES: readonly string[] = faultEffectEvents();

/**
 * When the fault took effect: the earliest journal event of a FAULT_START_TYPES type caused by it,
 * else the planned instant (the injector may have run a little late; the journal knows). For an
 * exec or http fault, whose inject ends some time after it acted (a command's start-up and exit),
 * the start of a disruption the clients saw while inject ran, when they saw one (from `timeline`).
 */
export function faultStartMs(fault: FaultPlan, events: readonly JournalEvent[], timeline?: TimelineData): number {
  let at: number | null = null;
  for (const e of events) {
    if (e.fault === fault.name && FAULT_START_TYPES.includes(e.type) && (at === null || e.atMs < at)) at = e.atMs;
  }
  if (at === null) return fault.atMs;
  const started = events.find((e) => e.fault === fault.name && isEvent(e, 'fault.started'))?.atMs;
  // A kind whose inject runs a while (a command, a request) took effect somewhere within it: only the clients can tell where.
  if (timeline && faultKind(fault).spanInject === true && started !== undefined && started < at) {
    const { ticks } = timeline;
    const first = firstDisruptedTick(ticks, Math.floor(started / ticks.tickMs), Math.ceil(at / ticks.tickMs), timeline.windowMs / ticks.tickMs);
    if (first !== null) return Math.min(at, Math.max(started, first * ticks.tickMs));
  }
  return at;
}

const REPLICA_LOST = replicaLostEvents();

/** Platform and client RTO of every scenario fault. */
export function measureFaultRtos(plan: Plan, timeline: TimelineData, events: readonly JournalEvent[]): FaultRto[] {
  return plan.faults.map((fault) => {
    const atMs = faultStartMs(fault, events, timeline);
    return {
      fault: fault.name,
      atMs,
      platform: platformRtoMs(events, fault.name, REPLICA_LOST),
      client: clientRtoMs(timeline, atMs, plan.slo, plan.recovery.sustainMs),
    };
  });
}

/** Faults that take replicas out (killed, or broken by a leak): the ones a platform RTO is measured for. */
export function takesReplicasOut(fault: FaultPlan): boolean {
  return faultKind(fault).takesReplicasOut?.(fault) ?? false;
}
