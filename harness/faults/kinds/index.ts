import type { JournalEventType } from '../../core/journal.js';
import type { FaultPlan } from '../../scenario/plan.js';
import { disasterRecovery } from './disaster-recovery.js';
import { exec } from './exec.js';
import { http } from './http.js';
import { networkDelay } from './network-delay.js';
import { podKill } from './pod-kill.js';
import { poolExhaustion } from './pool-exhaustion.js';
import type { FaultDocumentSchema, FaultKindModule, FaultSchemaParts } from './types.js';

export type * from './types.js';

/**
 * The one registry of fault kinds: a new kind is its module (faults/kinds/<kind>.ts: its document,
 * its plan, its injector…) and one line here. A kind's plan joins the FaultPlan union from its
 * module (FaultPlans); `satisfies` makes a plan kind without a module a type error.
 */
export const FAULT_KIND_MODULES = {
  'pod-kill': podKill,
  'network-delay': networkDelay,
  'pool-exhaustion': poolExhaustion,
  exec,
  http,
  'disaster-recovery': disasterRecovery,
} satisfies { readonly [K in FaultPlan['kind']]: FaultKindModule<K, FaultDocumentSchema> };

type Modules = typeof FAULT_KIND_MODULES;
/** Every kind's document schema, each with its own type (the scenario schema's spec.faults[] union). */
type DocumentSchemas = { [K in keyof Modules]: ReturnType<Modules[K]['document']> }[keyof Modules];

/** The kinds' documents, for the scenario schema's discriminated union on `kind` (in the registry's order). */
export function faultDocuments(parts: FaultSchemaParts): [DocumentSchemas, ...DocumentSchemas[]] {
  return faultKindModules().map((m) => m.document(parts)) as unknown as [DocumentSchemas, ...DocumentSchemas[]];
}

/** The module of a plan's kind, typed for that plan. */
export function faultKind<P extends FaultPlan>(plan: P): FaultKindModule<P['kind']> {
  return (FAULT_KIND_MODULES as { readonly [K in FaultPlan['kind']]: FaultKindModule })[plan.kind] as unknown as FaultKindModule<P['kind']>;
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
