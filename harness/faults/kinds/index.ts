import type { JournalEventType } from '../../core/journal.js';
import type { FaultPlan } from '../../scenario/plan.js';
import { exec } from './exec.js';
import { http } from './http.js';
import { networkDelay } from './network-delay.js';
import { podKill } from './pod-kill.js';
import { poolExhaustion } from './pool-exhaustion.js';
import type { FaultKindModule } from './types.js';

export type * from './types.js';

/**
 * The one registry of fault kinds: a new kind is its module (faults/kinds/<kind>.ts) and one line
 * here. The mapped type makes a kind of the plan union without a module (or the reverse) a type error.
 */
export const FAULT_KIND_MODULES: { readonly [K in FaultPlan['kind']]: FaultKindModule<K> } = {
  'pod-kill': podKill,
  'network-delay': networkDelay,
  'pool-exhaustion': poolExhaustion,
  exec,
  http,
};

/** The module of a plan's kind, typed for that plan. */
export function faultKind<P extends FaultPlan>(plan: P): FaultKindModule<P['kind']> {
  return FAULT_KIND_MODULES[plan.kind] as unknown as FaultKindModule<P['kind']>;
}

/** Every kind's module, in the registry's order. */
export function faultKindModules(): ReadonlyArray<FaultKindModule> {
  return Object.values(FAULT_KIND_MODULES) as ReadonlyArray<FaultKindModule>;
}

/** Journal event types by which any fault kind takes effect, plus the schedule's `fault.applied`. */
export function faultEffectEvents(): JournalEventType[] {
  return ['fault.applied', ...new Set(faultKindModules().flatMap((m) => m.effectEvents))];
}

/** Journal event types by which any fault kind takes a replica out. */
export function replicaLostEvents(): JournalEventType[] {
  return [...new Set(faultKindModules().flatMap((m) => m.replicaLostEvents ?? []))];
}
