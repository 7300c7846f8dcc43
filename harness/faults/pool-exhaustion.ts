import { HarnessError } from '../core/errors.js';
import type { PoolExhaustionFaultPlan } from '../scenario/plan.js';
import { MAX_HELD_CONNECTIONS, HeldSessions } from './pool-sessions.js';
import { selectTargets } from './selector.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

const LEAK_TIMEOUT_MS = 5000;
/** lock: each attempt waits this long for the table, and the fault gives up after LOCK_WAIT_MS. */
const LOCK_ATTEMPT_MS = 250;
const LOCK_WAIT_MS = 30_000;
/** SQLSTATE lock_not_available: lock_timeout expired. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The runbook's three causes of pool exhaustion:
 * - hold: the harness takes every connection slot PostgreSQL has (or N), so nothing new connects;
 * - lock: one session holds ACCESS EXCLUSIVE on tasks, so queries block and every pool fills up;
 * - leak: selected replicas check out connections and never return them (their leak endpoint).
 * hold and lock end when recovered; a leak stays until the replica is replaced.
 */
export class PoolExhaustion implements FaultInjector<PoolExhaustionFaultPlan> {
  /** One set of sessions per apply; recover closes them all, even those of an apply still under way. */
  private readonly sessions = new Set<HeldSessions>();

  constructor(readonly plan: PoolExhaustionFaultPlan) {}

  async apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const url = ctx.deployment.databaseUrl;
    if (!url) throw new HarnessError(`fault ${this.plan.name}: the platform exposes no database`);
    if (this.plan.mode === 'leak') return this.leak(ctx);
    const sessions = new HeldSessions();
    this.sessions.add(sessions);
    // Recovery has started: a fill opens nothing more and a lock still waiting gives up;
    // what is held is released by recover.
    const onAbort = (): void => sessions.stop();
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return this.plan.mode === 'hold' ? await this.hold(ctx, url, sessions) : await this.lock(ctx, url, sessions);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    const all = [...this.sessions];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.closeAll()));
    for (const r of records) {
      if (r.recoveredAtMs !== undefined) continue;
      const type = this.plan.mode === 'leak' ? 'pool.leak-left' : 'pool.released';
      r.recoveredAtMs = ctx.journal.record({ source: 'fault', type, target: r.target, fault: this.plan.name }).atMs;
    }
  }

  private async hold(ctx: FaultContext, url: string, sessions: HeldSessions): Promise<FaultRecord[]> {
    const held = await sessions.fill(url, `gameday-fault-${this.plan.name}`, this.plan.connections ?? MAX_HELD_CONNECTIONS);
    if (held === 0 && sessions.isStopped) {
      ctx.journal.record({ source: 'fault', type: 'pool.hold-abandoned', target: 'database', fault: this.plan.name, detail: { reason: 'recovery started before a connection was held' } });
      return [];
    }
    const e = ctx.journal.record({ source: 'fault', type: 'pool.connections-held', target: 'database', fault: this.plan.name, detail: { held, interrupted: sessions.isStopped } });
    return [{ target: 'database', appliedAtMs: e.atMs, detail: { held } }];
  }

  private async lock(ctx: FaultContext, url: string, sessions: HeldSessions): Promise<FaultRecord[]> {
    try {
      const client = await sessions.open(url, `gameday-fault-${this.plan.name}`);
      if (!client) throw new HarnessError(`fault ${this.plan.name}: could not open a session to lock the tasks table`);
      // Wait for the lock in short attempts, so a wait behind another transaction ends soon after
      // recovery starts (a backend waiting on a lock does not notice its client leave).
      await client.query(`SET lock_timeout = ${LOCK_ATTEMPT_MS}`);
      const deadline = performance.now() + LOCK_WAIT_MS;
      for (;;) {
        await client.query('BEGIN');
        const taken = await client.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE').then(
          () => true,
          (err: unknown) => {
            if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return false;
            throw err;
          },
        );
        if (taken) break;
        await client.query('ROLLBACK');
        if (sessions.isStopped) return this.lockAbandoned(ctx);
        if (performance.now() > deadline) {
          throw new HarnessError(`fault ${this.plan.name}: could not lock the tasks table within ${LOCK_WAIT_MS / 1000}s: other transactions hold it`);
        }
      }
    } catch (err) {
      if (!sessions.isStopped) throw err;
      return this.lockAbandoned(ctx);
    }
    const e = ctx.journal.record({ source: 'fault', type: 'pool.table-locked', target: 'tasks', fault: this.plan.name, detail: { lock: 'ACCESS EXCLUSIVE' } });
    return [{ target: 'tasks', appliedAtMs: e.atMs }];
  }

  private lockAbandoned(ctx: FaultContext): FaultRecord[] {
    ctx.journal.record({ source: 'fault', type: 'pool.lock-abandoned', target: 'tasks', fault: this.plan.name, detail: { reason: 'recovery started before the lock was taken' } });
    return [];
  }

  private async leak(ctx: FaultContext): Promise<FaultRecord[]> {
    const http = ctx.deployment.replicaHttp;
    if (!http) throw new HarnessError(`fault ${this.plan.name}: platform "${ctx.platform.kind}" cannot reach a replica's fault endpoint`);
    const ready = ctx.deployment.replicas().filter((r) => r.ready);
    const targets = selectTargets(ready, this.plan.replicas.mode, ctx.random, this.plan.replicas.value);
    return Promise.all(
      targets.map(async (replica) => {
        const body = { connections: this.plan.connections ?? ctx.deployment.poolSize ?? 1 };
        const res = await http.request(replica.name, { method: 'POST', path: '/faults/leak', body, timeoutMs: LEAK_TIMEOUT_MS });
        const text = res.body;
        if (res.status < 200 || res.status > 299) throw new HarnessError(`fault ${this.plan.name}: ${replica.name} refused the leak (${res.status} ${text.slice(0, 200)})`);
        const e = ctx.journal.record({ source: 'fault', type: 'pool.leaked', target: replica.name, fault: this.plan.name, detail: { response: text.slice(0, 200) } });
        return { target: replica.name, appliedAtMs: e.atMs };
      }),
    );
  }
}
