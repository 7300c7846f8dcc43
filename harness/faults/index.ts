import type { Platform } from '../platform/types.js';
import type { FaultPlan } from '../scenario/plan.js';
import { faultKind } from './kinds/index.js';
import type { FaultInjector } from './types.js';

export type * from './types.js';

/** The platform's own injector for the fault when it has one (Chaos Mesh objects), else the kind's (faults/kinds). */
export function createInjector(plan: FaultPlan, platform?: Platform): FaultInjector {
  return platform?.injectorFor?.(plan) ?? faultKind(plan).injector(plan);
}
