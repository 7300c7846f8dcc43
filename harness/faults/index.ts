import type { FaultKind, FaultPlan } from '../scenario/plan.js';
import { PodKill } from './pod-kill.js';
import type { FaultInjector } from './types.js';

export type * from './types.js';

/** The one registry of fault kinds; the scenario schema's union names the same kinds. */
const INJECTORS: { [K in FaultKind]: (plan: Extract<FaultPlan, { kind: K }>) => FaultInjector } = {
  'pod-kill': (plan) => new PodKill(plan),
};

export function createInjector(plan: FaultPlan): FaultInjector {
  return INJECTORS[plan.kind](plan);
}
