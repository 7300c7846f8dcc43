import { z } from 'zod';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import type { SelectorMode } from '../../scenario/plan.js';
import { PodKill } from '../pod-kill.js';
import { countValue, selection, selectorMode } from './planning.js';
import { defineFaultKind, type FaultSchemaParts } from './types.js';

export interface PodKillFaultPlan {
  kind: 'pod-kill';
  name: string;
  atMs: number;
  durationMs: number;
  mode: SelectorMode;
  /** For `fixed`: a count; for `fixed-percent`: a percentage 0-100. */
  value?: number;
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    'pod-kill': PodKillFaultPlan;
  }
}

/** PodChaos `pod-kill`: the selected ready replicas killed at once; the platform replaces them. */
export const podKill = defineFaultKind({
  kind: 'pod-kill',
  document: (p: FaultSchemaParts) =>
    p.obj({
      name: p.dnsLabel,
      kind: z.literal('pod-kill'),
      at: p.duration(B.faultAt),
      duration: p.duration(B.faultDuration).default('15s'),
      mode: selectorMode.default('one'),
      value: countValue(p).optional(),
    }),
  needsPlatform: true,
  plan: (f, base, path, platform, problem) => {
    const value = selection(f.mode, f.value, path, platform, problem);
    return { kind: 'pod-kill', ...base, mode: f.mode, ...(value !== undefined ? { value } : {}) };
  },
  injector: (plan) => new PodKill(plan),
  effectEvents: ['replica.killed'],
  replicaLostEvents: ['replica.killed'],
  takesReplicasOut: () => true,
  defaultRtoCheck: true,
});
