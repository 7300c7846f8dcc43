import { HarnessError } from '../../core/errors.js';
import type { DatabaseBackup, DatabaseRecovery } from '../../platform/types.js';
import type { FaultContext, FaultInjector, FaultRecord } from '../types.js';
import type { DisasterRecoveryFaultPlan } from './disaster-recovery.js';

/** How often the platform's replicas are looked at while waiting for the service to be healthy again. */
const HEALTH_POLL_MS = 100;
const HEALTH_PROBE_TIMEOUT_MS = 1_000;
/** Stopped (Ctrl-C), the drill still restores, but waits at most this long for the service to be healthy again. */
const STOPPED_HEALTH_WAIT_MS = 10_000;
const TARGET = 'database';
/** A second attempt at a failed restore (in recover) gets at least this long, deadline or not. */
const RETRY_RESTORE_MS = 60_000;

type Stage = 'idle' | 'backed-up' | 'destroyed' | 'restored';

/**
 * The drill's injector: backup, then the disaster at its time, then the restore at once and the
 * wait for every replica to serve again (all within apply, so the fault's span is the incident).
 *
 * Stopped early (its signal aborts: Ctrl-C, the run's end), it never leaves the database lost:
 * before the disaster it stops there (the original untouched); once the database is gone the
 * restore goes on regardless (bounded by the drill's deadline). `recover` says which, and retries
 * a restore that failed.
 */
export class DisasterRecovery implements FaultInjector<DisasterRecoveryFaultPlan> {
  private stage: Stage = 'idle';
  private backup?: DatabaseBackup;
  private interrupted?: string;

  constructor(readonly plan: DisasterRecoveryFaultPlan) {}

  async apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const { name } = this.plan;
    const { journal } = ctx;
    const dr = ctx.platform.databaseRecovery;
    if (!dr) {
      // Nothing is touched; the drill's checks say "not evaluated" with this reason.
      const reason = `platform "${ctx.platform.kind}" cannot back up, lose and restore its database here (the local platform's embedded PostgreSQL can, and a Kubernetes run that deploys its own PostgreSQL through Velero; a server named by URL and an existing workload's database are never destroyed)`;
      journal.record({ source: 'fault', type: 'dr.not-run', target: TARGET, fault: name, detail: { reason } });
      return [];
    }
    journal.record({ source: 'fault', type: 'dr.backup-started', target: TARGET, fault: name });
    const backup = (this.backup = await dr.backup().catch((err: unknown) => {
      // Stopped while backing up: nothing was lost; the journal says so before the error goes on.
      if (signal?.aborted) journal.record({ source: 'fault', type: 'dr.interrupted', target: TARGET, fault: name, detail: { outcome: 'untouched', reason: 'stopped during the backup: the original database was never touched' } });
      throw err;
    }));
    this.stage = 'backed-up';
    const backedUp = journal.record({
      source: 'fault',
      type: 'dr.backup-completed',
      target: TARGET,
      fault: name,
      detail: { location: backup.location, bytes: backup.bytes, tables: backup.tables, rows: backup.rows, checkpointMs: backup.checkpointMs, ms: backup.ms },
    });
    const record: FaultRecord = { target: TARGET, appliedAtMs: backedUp.atMs, detail: { backupRows: backup.rows } };
    await ctx.clock.sleep(this.plan.disasterAtMs - ctx.clock.now(), signal);
    if (signal?.aborted) {
      this.interrupted = 'stopped after the backup, before the disaster';
      return [record];
    }
    const lost = await dr.destroy();
    this.stage = 'destroyed';
    const lostAt = ctx.clock.now();
    const disaster = journal.record({ source: 'fault', type: 'dr.disaster', target: TARGET, fault: name, atMs: lostAt, detail: { ...lost, backupAgeMs: Math.round(lostAt - backedUp.atMs) } });
    record.appliedAtMs = disaster.atMs;
    // Whatever the signal says from here on: a drill does not leave the database lost.
    await this.restore(ctx, dr);
    if (signal?.aborted) this.interrupted = 'stopped after the disaster';
    await this.waitHealthy(ctx, disaster.atMs, signal);
    return [record];
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    const { name } = this.plan;
    const target = TARGET;
    if (this.stage === 'destroyed') {
      // The restore failed in apply: once more, then say what was left.
      const dr = ctx.platform.databaseRecovery;
      const restored = dr ? await this.restore(ctx, dr, RETRY_RESTORE_MS).then(() => true, () => false) : false;
      const reason = restored ? 'restored from the backup on a second attempt' : 'the restore failed: the database is lost (the platform tears it down)';
      ctx.journal.record({ source: 'fault', type: 'dr.interrupted', target, fault: name, detail: { outcome: restored ? 'restored' : 'lost', reason } });
    } else if (this.interrupted) {
      const outcome = this.stage === 'restored' ? 'restored' : 'untouched';
      const reason = outcome === 'restored' ? `${this.interrupted}: the restore was completed first` : `${this.interrupted}: the original database was never touched`;
      ctx.journal.record({ source: 'fault', type: 'dr.interrupted', target, fault: name, detail: { outcome, reason } });
    }
    for (const r of records) r.recoveredAtMs ??= ctx.clock.now();
  }

  /** From the last backup, bounded by the drill's deadline; journals the outcome and rethrows a failure. */
  private async restore(ctx: FaultContext, dr: DatabaseRecovery, minMs = 1_000): Promise<void> {
    const { name } = this.plan;
    const backup = this.backup as DatabaseBackup;
    const t0 = ctx.journal.record({ source: 'fault', type: 'dr.restore-started', target: TARGET, fault: name, detail: { location: backup.location } }).atMs;
    const deadline = AbortSignal.timeout(Math.round(Math.max(minMs, this.deadlineMs() - ctx.clock.now())));
    try {
      const detail = await dr.restore(backup, deadline);
      this.stage = 'restored';
      const at = ctx.clock.now();
      ctx.journal.record({ source: 'fault', type: 'dr.restore-completed', target: TARGET, fault: name, atMs: at, detail: { ...detail, ms: Math.round(at - t0) } });
    } catch (err) {
      const error = deadline.aborted ? `not restored by the drill's deadline (at + duration, or ${minMs / 1000}s)` : (err as Error).message.split('\n')[0] ?? String(err);
      ctx.journal.record({ source: 'fault', type: 'dr.restore-failed', target: TARGET, fault: name, detail: { error } });
      throw new HarnessError(`fault ${name}: ${error}`, { cause: err });
    }
  }

  /**
   * The platform's view of "healthy again": every replica ready and answering its health path
   * (asked directly, so a replica still marked ready from before the disaster does not count
   * until it has reached the restored database). Polled until the drill's deadline.
   */
  private async waitHealthy(ctx: FaultContext, disasterAtMs: number, signal: AbortSignal | undefined): Promise<void> {
    const { deployment, journal, clock } = ctx;
    const { name, healthPath } = this.plan;
    let stopBy = Infinity;
    const deadline = (): number => {
      if (signal?.aborted && stopBy === Infinity) stopBy = clock.now() + STOPPED_HEALTH_WAIT_MS;
      return Math.min(this.deadlineMs(), stopBy);
    };
    const polls = Math.ceil((this.deadlineMs() - clock.now()) / HEALTH_POLL_MS) + 1;
    let why = 'no replica';
    for (let i = 0; i < polls && clock.now() < deadline(); i++) {
      const replicas = deployment.replicas();
      const unready = replicas.filter((r) => !r.ready);
      if (replicas.length === 0) why = 'no replica';
      else if (unready.length > 0) why = `not ready: ${unready.map((r) => r.name).join(', ')}`;
      else {
        const answers = await Promise.all(replicas.map(async (r) => ({ r, ok: await this.answers(ctx, r.name, healthPath) })));
        const failing = answers.filter((a) => !a.ok).map((a) => a.r.name);
        if (failing.length === 0) {
          const at = clock.now();
          journal.record({ source: 'fault', type: 'dr.service-healthy', target: TARGET, fault: name, atMs: at, detail: { rtoMs: Math.round(at - disasterAtMs), replicas: replicas.length } });
          return;
        }
        why = `${healthPath} not answering 2xx: ${failing.join(', ')}`;
      }
      await clock.sleep(HEALTH_POLL_MS);
    }
    const when = signal?.aborted ? `within ${STOPPED_HEALTH_WAIT_MS / 1000}s of being stopped` : "by the drill's deadline (at + duration)";
    journal.record({ source: 'fault', type: 'dr.not-healthy', target: TARGET, fault: name, detail: { reason: `not healthy ${when}: ${why}` } });
  }

  private async answers(ctx: FaultContext, replica: string, path: string): Promise<boolean> {
    const http = ctx.deployment.replicaHttp;
    if (!http) return true; // readiness as the platform reports it is all there is
    try {
      const res = await http.request(replica, { method: 'GET', path, timeoutMs: HEALTH_PROBE_TIMEOUT_MS });
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  private deadlineMs(): number {
    return this.plan.atMs + this.plan.durationMs;
  }
}
