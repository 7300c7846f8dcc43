import { z } from 'zod';
import type { FaultAct } from '../../core/journal.js';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import type { SelectorMode } from '../../scenario/plan.js';
import { PoolExhaustion } from '../pool-exhaustion.js';
import { countValue, selection, selectorMode } from './planning.js';
import { defineFaultKind, type FaultSchemaParts } from './types.js';

export interface PoolExhaustionFaultPlan {
  kind: 'pool-exhaustion';
  name: string;
  atMs: number;
  durationMs: number;
  mode: 'hold' | 'lock' | 'leak';
  connections?: number;
  /** leak: which replicas leak. */
  replicas: { mode: SelectorMode; value?: number };
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    'pool-exhaustion': PoolExhaustionFaultPlan;
  }
}

declare module '../../core/journal.js' {
  interface JournalEventTypes {
    'pool.connections-held': FaultAct<{ held: number }>;
    'pool.hold-abandoned': FaultAct<{ reason: string }>;
    'pool.table-locked': FaultAct;
    'pool.lock-abandoned': FaultAct<{ reason: string }>;
    'pool.leaked': FaultAct;
    'pool.released': FaultAct;
    'pool.leak-left': FaultAct;
  }
}

/** The runbook's causes of pool exhaustion: held connections, a table lock, a connection leak. */
export const poolExhaustion = defineFaultKind({
  kind: 'pool-exhaustion',
  document: (p: FaultSchemaParts) =>
    p.obj({
      name: p.dnsLabel,
      kind: z.literal('pool-exhaustion'),
      at: p.duration(B.faultAt),
      duration: p.duration(B.faultDuration),
      mode: z.enum(['hold', 'lock', 'leak']),
      /** hold: connections to open (default: until the server refuses); leak: per replica (default: its pool size). */
      connections: p.positiveInt.max(10_000).optional(),
      /** leak only: which replicas leak (Chaos Mesh selector modes). */
      replicas: p.obj({ mode: selectorMode.default('one'), value: countValue(p).optional() }).optional(),
    }),
  needsPlatform: true,
  plan: (f, base, path, platform, problem) => {
    const mode = f.replicas?.mode ?? 'one';
    if (f.replicas && f.mode !== 'leak') problem(`${path}.replicas`, 'replicas only for mode "leak"', `mode "${f.mode}"`);
    const value = selection(mode, f.replicas?.value, `${path}.replicas`, platform, problem);
    return {
      kind: 'pool-exhaustion',
      ...base,
      mode: f.mode,
      ...(f.connections !== undefined ? { connections: f.connections } : {}),
      replicas: { mode, ...(value !== undefined ? { value } : {}) },
    };
  },
  platformNeeds: (plan) => (plan.mode === 'leak' ? { faultInjection: ['leak'] } : {}),
  checkApp: (plan, app, path, problem) => {
    if (plan.mode === 'leak' || plan.mode === 'lock') {
      const why = plan.mode === 'leak' ? "the Task API's leak endpoint" : "the Task API's tasks table";
      problem(`${path}.mode`, `pool-exhaustion mode "hold" with an app (mode "${plan.mode}" needs ${why})`, `"${plan.mode}"`);
    } else if (!app.database) {
      problem(`${path}.kind`, 'a fault that needs no database (spec.platform.local.app has database: false; set it to true)', '"pool-exhaustion"');
    }
  },
  injector: (plan) => new PoolExhaustion(plan),
  effectEvents: ['pool.table-locked', 'pool.connections-held', 'pool.leaked'],
  // A leak breaks the replicas it reaches until they are replaced.
  replicaLostEvents: ['pool.leaked'],
  takesReplicasOut: (plan) => plan.mode === 'leak',
});
