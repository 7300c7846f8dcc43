import { PodKill } from '../pod-kill.js';
import { selection } from './planning.js';
import { defineFaultKind } from './types.js';

/** PodChaos `pod-kill`: the selected ready replicas killed at once; the platform replaces them. */
export const podKill = defineFaultKind({
  kind: 'pod-kill',
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
