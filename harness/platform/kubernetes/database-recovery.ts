import type { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import type { Clock } from '../../core/clock.js';
import { HarnessError } from '../../core/errors.js';
import { postgresSelector } from '../../kube/index.js';
import { drillVeleroObjects, VELERO_NAMESPACE, type VeleroObject } from '../../kube/velero.js';
import { VELERO_TYPES, VeleroRunner, type PhaseSeen } from '../../kube/velero-run.js';
import type { DatabaseBackup, DatabaseRecovery } from '../types.js';
import { selectorOf, type KubeClient } from './client.js';
import type { PodTracker } from './pods.js';
import { byKind } from './resources.js';

/**
 * The disaster-recovery drill on a cluster, for a run that deployed the reference workload:
 *
 * - backup: a Velero Backup of the run's namespace, from the shipped daily Schedule's template
 *   (its pre hook on the PostgreSQL pod: CHECKPOINT, then pg_dump; onError: Fail), followed to
 *   Completed;
 * - disaster: the database lost, the namespace kept: the run's PostgreSQL StatefulSet and its
 *   PersistentVolumeClaims deleted, until no PostgreSQL pod is left (the Task API pods keep
 *   running and fail their readiness). Never the namespace itself, never production (the deploy's
 *   guardrail and drillVeleroObjects refuse it);
 * - restore: a Velero Restore of that Backup in place (no namespace mapping: the Task API reaches
 *   `postgres` in its own namespace), only the PostgreSQL objects (StatefulSet, claims, volumes),
 *   followed to Completed, then until the StatefulSet's pod is Ready again. Whether the Task API
 *   serves again is the drill's own wait (every replica ready and answering its health path).
 *
 * The drill's `namespace` / `restoreNamespace` (a namespace copy deleted, restored under a
 * mapping) are refused when the scenario is validated: the capability acts on the run's own namespace.
 */

/** What the Restore brings back: the PostgreSQL StatefulSet and its storage. */
const RESTORED_RESOURCES = ['statefulsets', 'persistentvolumeclaims', 'persistentvolumes'];
/** The Backup may wait on the pre hook's pg_dump (the Schedule allows it 120 s). */
const BACKUP_TIMEOUT_MS = 300_000;
/** The Restore's own bound (SC-007's 30 min); the drill's deadline, through its signal, usually ends it first. */
const RESTORE_TIMEOUT_MS = 30 * 60_000;
const POLL_MS = 100;

export interface KubeRecoveryDeps {
  /** Known once deployed. */
  kc(): KubeConfig;
  client(): KubeClient;
  namespace: string;
  runId: string;
  clock: Clock;
  /** The PostgreSQL pods' tracker (Ready again after the restore). */
  databaseTracker(): PodTracker | undefined;
  /** The database through its port-forward: the rows the backup holds are counted there. */
  databaseUrl(): string | undefined;
  /** Bound on the disaster's deletion and on the PostgreSQL pod's readiness. */
  readyTimeoutMs: number;
  /** The run's signal (Ctrl-C, SIGTERM), once deployed: a Backup still InProgress is not waited for. */
  signal(): AbortSignal | undefined;
  /** Called before anything is created: the run has objects to delete. */
  applied(): void;
}

export class KubeDatabaseRecovery implements DatabaseRecovery {
  private runner?: VeleroRunner;
  private drills = 0;
  private current?: { backup: VeleroObject; restore: VeleroObject; attempts: number };
  private readonly created: VeleroObject[] = [];

  constructor(private readonly deps: KubeRecoveryDeps) {}

  private velero(): VeleroRunner {
    return (this.runner ??= new VeleroRunner(this.deps.kc()));
  }

  async backup(): Promise<DatabaseBackup> {
    const { clock, namespace, runId } = this.deps;
    const t0 = clock.now();
    // One pair of objects per drill in the run: dr-1, dr-2, …
    const objects = drillVeleroObjects({ name: `dr-${++this.drills}` }, { runId, namespace, inPlace: { matchLabels: postgresSelector(runId), resources: RESTORED_RESOURCES } });
    this.deps.applied();
    this.created.push(objects.backup);
    const counted = this.countRows();
    const signal = this.deps.signal();
    const phases = await this.velero()
      .run(objects.backup, { clock, timeoutMs: BACKUP_TIMEOUT_MS, ...(signal ? { signal } : {}) })
      .catch(async (err: unknown) => {
        // Stopped mid-backup: the Backup goes at once (teardown then verifies that nothing of the run is left, Velero's objects included).
        if (signal?.aborted) await this.cleanup();
        throw err;
      });
    this.current = { ...objects, attempts: 0 };
    const { tables, rows } = await counted;
    const inProgress = phases.find((p) => p.phase === 'InProgress')?.atMs ?? t0;
    const done = (phases.at(-1) as PhaseSeen).atMs;
    return {
      location: `velero backup ${VELERO_NAMESPACE}/${objects.backup.metadata.name} (namespace ${namespace})`,
      // Velero reports items, not bytes, for a Backup: the size stays with its storage location.
      bytes: 0,
      tables,
      rows,
      // The pre hook (CHECKPOINT, pg_dump) runs inside InProgress: the time from there to Completed.
      checkpointMs: Math.round(done - inProgress),
      ms: Math.round(clock.now() - t0),
    };
  }

  async destroy(): Promise<Record<string, string | number | boolean | null>> {
    const { clock, runId, namespace } = this.deps;
    const client = this.deps.client();
    const selector = selectorOf(postgresSelector(runId));
    const sts = byKind('StatefulSet');
    const pvc = byKind('PersistentVolumeClaim');
    const names = (await client.list(sts, selector)).items.map((o) => o.metadata?.name ?? '');
    if (names.length === 0) throw new HarnessError(`no PostgreSQL StatefulSet of run ${runId} in namespace ${namespace} (${selector}): nothing the drill can lose`);
    for (const name of names) await client.delete(sts, name);
    const claims = (await client.list(pvc, selector)).items.map((o) => o.metadata?.name ?? '');
    for (const name of claims) await client.delete(pvc, name);
    // Lost once no PostgreSQL pod is left (the StatefulSet's pods go with it).
    const pods = byKind('Pod');
    const deadline = clock.now() + this.deps.readyTimeoutMs;
    for (let i = 0; ; i++) {
      const left = (await client.list(pods, selector)).items;
      if (left.length === 0) break;
      if (clock.now() >= deadline || i > this.deps.readyTimeoutMs / POLL_MS) throw new HarnessError(`PostgreSQL pods still there ${Math.round(this.deps.readyTimeoutMs / 1000)}s after their StatefulSet was deleted: ${left.map((p) => p.metadata?.name).join(', ')}`);
      await clock.sleep(POLL_MS);
    }
    return { namespace, statefulSets: names.join(','), persistentVolumeClaims: claims.length };
  }

  async restore(_backup: DatabaseBackup, signal?: AbortSignal): Promise<Record<string, string | number | boolean | null>> {
    const { clock, readyTimeoutMs } = this.deps;
    const objects = this.current;
    if (!objects) throw new HarnessError('no Velero Backup of this run to restore from');
    const t0 = clock.now();
    // A second attempt (the drill retries a failed restore) needs a Restore of its own: <name>-2.
    const attempt = ++objects.attempts;
    const restore: VeleroObject = attempt === 1 ? objects.restore : { ...objects.restore, metadata: { ...objects.restore.metadata, name: `${objects.restore.metadata.name.slice(0, 60)}-${attempt}` } };
    this.created.push(restore);
    const phases = await this.velero().run(restore, { clock, timeoutMs: RESTORE_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    const veleroMs = Math.round(clock.now() - t0);
    const tracker = this.deps.databaseTracker();
    if (tracker) await tracker.waitReady(1, readyTimeoutMs, signal ?? new AbortController().signal, 'StatefulSet postgres (restored)');
    return { restore: `${VELERO_NAMESPACE}/${restore.metadata.name}`, phases: phases.map((p) => p.phase).join(' > '), veleroMs, databaseReadyMs: Math.round(clock.now() - t0) };
  }

  /**
   * Deletes the run's Backup and Restore objects (on a stopped backup, and at teardown, which then
   * verifies they are gone with every other object of the run). Velero's own copy of the backup
   * expires with the Schedule's ttl.
   */
  async cleanup(): Promise<void> {
    for (const obj of this.created.splice(0)) {
      await this.deps.client().delete(VELERO_TYPES[obj.kind], obj.metadata.name, { namespace: VELERO_NAMESPACE }).catch(() => undefined);
    }
  }

  /** Tables and rows of the database as the backup starts (what its dump holds); zeros when the harness cannot reach it. */
  private async countRows(): Promise<{ tables: number; rows: number }> {
    const url = this.deps.databaseUrl();
    if (!url) return { tables: 0, rows: 0 };
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 });
    try {
      await c.connect();
      const tables = (await c.query<{ name: string }>("SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'")).rows;
      let rows = 0;
      for (const t of tables) rows += Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.name}`)).rows[0]?.n ?? 0);
      return { tables: tables.length, rows };
    } catch {
      return { tables: 0, rows: 0 };
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
