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

export function createInjector(plan: FaultPlan): FaultInjector {
  const make = INJECTORS[plan.kind] as (p: FaultPlan) => FaultInjector;
  return make(plan);
}
