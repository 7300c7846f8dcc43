import { z } from 'zod';
import type { FaultAct } from '../../core/journal.js';
import { isProductionName } from '../../kube/guardrails.js';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import { DisasterRecovery } from './disaster-recovery-injector.js';
import { ms } from './planning.js';
import { defineFaultKind, type FaultSchemaParts } from './types.js';

export interface DisasterRecoveryFaultPlan {
  kind: 'disaster-recovery';
  name: string;
  /** The backup (CHECKPOINT, then the dump), run clock. */
  atMs: number;
  /** From the backup to the restore's deadline: the service must be healthy again by atMs + durationMs. */
  durationMs: number;
  /** The disaster (the database lost), run clock; after the backup, before the deadline. */
  disasterAtMs: number;
  /** The path each replica answers 2xx on once it can serve (readiness). */
  healthPath: string;
  /** Accepted by the schema but refused by validation (no platform restores into a mapped namespace); never set in a valid plan. */
  namespace?: string;
  restoreNamespace?: string;
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    'disaster-recovery': DisasterRecoveryFaultPlan;
  }
}

declare module '../../core/journal.js' {
  interface JournalEventTypes {
    /** The platform cannot lose and restore its database: the drill's checks are not evaluated (never passed). */
    'dr.not-run': FaultAct<{ reason: string }>;
    'dr.backup-started': FaultAct;
    'dr.backup-completed': FaultAct<{ location: string; bytes: number; rows: number; checkpointMs: number; ms: number }>;
    'dr.disaster': FaultAct<{ backupAgeMs: number }>;
    'dr.restore-started': FaultAct;
    'dr.restore-completed': FaultAct<{ ms: number }>;
    'dr.restore-failed': FaultAct<{ error: string }>;
    /** The platform's view: every replica ready and answering its health path after the restore. */
    'dr.service-healthy': FaultAct<{ rtoMs: number; replicas: number }>;
    'dr.not-healthy': FaultAct<{ reason: string }>;
    /** The drill was stopped before it finished (Ctrl-C, the run's end): what state it left. */
    'dr.interrupted': FaultAct<{ outcome: 'untouched' | 'restored' | 'lost'; reason: string }>;
  }
}

/**
 * The seed's disaster-recovery test (SC-007), under load: a backup as its pre-backup hook takes
 * one (CHECKPOINT, then a dump) at `at`; the database lost at `disasterAt` (local: the server
 * killed and its data directory deleted); a restore from that backup at once, until every
 * replica serves again. Measured: the restore RTO (rto.restore; rto.client from the disaster)
 * and the RPO as data (rpo.*, durability.lostOutsideRpo; see observe/rpo.ts).
 */
export const disasterRecovery = defineFaultKind({
  kind: 'disaster-recovery',
  document: (p: FaultSchemaParts) =>
    p.obj({
      name: p.dnsLabel,
      kind: z.literal('disaster-recovery'),
      /** The backup. */
      at: p.duration(B.faultAt),
      /** The disaster: after the backup. */
      disasterAt: p.duration(B.faultAt),
      /** From the backup to the deadline of the restore (the service healthy again). */
      duration: p.duration(B.faultDuration).default('2m'),
      healthPath: z.string().regex(/^\/[\x21-\x7e]*$/, 'an absolute path such as /health').max(200).default('/health'),
      namespace: p.dnsLabel.optional(),
      restoreNamespace: p.dnsLabel.optional(),
    }),
  needsPlatform: true,
  plan: (f, base, path, _platform, problem) => {
    const disasterAtMs = ms(f.disasterAt);
    const end = base.atMs + base.durationMs;
    if (disasterAtMs <= base.atMs) problem(`${path}.disasterAt`, `after the backup (at: ${f.at}): a drill restores from a backup taken before the disaster`, f.disasterAt);
    else if (disasterAtMs >= end) problem(`${path}.disasterAt`, `before the drill's end (at + duration = ${end}ms), leaving time to restore`, `${disasterAtMs}ms`);
    for (const key of ['namespace', 'restoreNamespace'] as const) {
      const ns = f[key];
      if (ns !== undefined && isProductionName(ns)) problem(`${path}.${key}`, 'a namespace that is not production (a drill deletes and restores it; test restores in staging)', `"${ns}"`);
    }
    if (f.namespace !== undefined && f.namespace === f.restoreNamespace) problem(`${path}.restoreNamespace`, `a namespace other than the one deleted ("${f.namespace}"), as the seed's namespace mapping`, `"${f.restoreNamespace}"`);
    else {
      // No platform acts on them: the drill loses and restores the run's own database in place
      // (Kubernetes: the run's namespace, where its Task API reaches \`postgres\`), so a restore
      // mapped into another namespace could never bring the service back. Refused rather than
      // ignored: a Velero user naming them expects a namespace-mapped restore to happen.
      for (const key of ['namespace', 'restoreNamespace'] as const) {
        const ns = f[key];
        if (ns === undefined || isProductionName(ns)) continue;
        problem(
          `${path}.${key}`,
          "no such field: the drill restores the run's own database in place (on Kubernetes the run's namespace, spec.platform.kubernetes.namespace or --namespace; no namespace mapping)",
          `"${ns}"`,
        );
      }
    }
    return {
      kind: 'disaster-recovery',
      ...base,
      disasterAtMs,
      healthPath: f.healthPath,
      ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
      ...(f.restoreNamespace !== undefined ? { restoreNamespace: f.restoreNamespace } : {}),
    };
  },
  checkApp: (_plan, app, path, problem) => {
    if (!app.database) problem(`${path}.kind`, 'a fault that needs no database (spec.platform.local.app has database: false; set it to true)', '"disaster-recovery"');
  },
  injector: (plan) => new DisasterRecovery(plan),
  // The client RTO runs from the disaster, not from the backup.
  effectEvents: ['dr.disaster'],
});
