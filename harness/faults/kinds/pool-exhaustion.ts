import { PoolExhaustion } from '../pool-exhaustion.js';
import { selection } from './planning.js';
import { defineFaultKind } from './types.js';

/** The runbook's causes of pool exhaustion: held connections, a table lock, a connection leak. */
export const poolExhaustion = defineFaultKind({
  kind: 'pool-exhaustion',
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
