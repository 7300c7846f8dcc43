import type { Platform } from '../platform/types.js';
import type { FaultKind, FaultPlan } from '../scenario/plan.js';
import { ExecFault } from './exec.js';
import { HttpFault } from './http.js';
import { NetworkDelay } from './network-delay.js';
import { PodKill } from './pod-kill.js';
import { PoolExhaustion } from './pool-exhaustion.js';
import type { FaultInjector } from './types.js';

export type * from './types.js';

/** The one registry of fault kinds; the scenario schema's union names the same kinds. */
const INJECTORS: { [K in FaultKind]: (plan: Extract<FaultPlan, { kind: K }>) => FaultInjector } = {
  'pod-kill': (plan) => new PodKill(plan),
  'network-delay': (plan) => new NetworkDelay(plan),
  'pool-exhaustion': (plan) => new PoolExhaustion(plan),
  exec: (plan) => new ExecFault(plan),
  http: (plan) => new HttpFault(plan),
};

/** The platform's own injector for the fault when it has one (Chaos Mesh objects), else the kind's. */
export function createInjector(plan: FaultPlan, platform?: Platform): FaultInjector {
  const own = platform?.injectorFor?.(plan);
  if (own) return own;
  const make = INJECTORS[plan.kind] as (p: FaultPlan) => FaultInjector;
  return make(plan);
}
