import { HarnessError } from '../core/errors.js';
import type { PoolExhaustionFaultPlan } from '../scenario/plan.js';
import { MAX_HELD_CONNECTIONS, HeldSessions } from './pool-sessions.js';
import { selectTargets } from './selector.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

const LEAK_TIMEOUT_MS = 5000;

/**
 * The runbook's three causes of pool exhaustion:
 * - hold: the harness takes every connection slot PostgreSQL has (or N), so nothing new connects;
 * - lock: one session holds ACCESS EXCLUSIVE on tasks, so queries block and every pool fills up;
 * - leak: selected replicas check out connections and never return them (their leak endpoint).
 * hold and lock end when recovered; a leak stays until the replica is replaced.
 */
export class PoolExhaustion implements FaultInjector<PoolExhaustionFaultPlan> {
  private readonly sessions = new HeldSessions();

  constructor(readonly plan: PoolExhaustionFaultPlan) {}

  async apply(ctx: FaultContext): Promise<FaultRecord[]> {
    const url = ctx.deployment.databaseUrl;
    if (!url) throw new HarnessError(`fault ${this.plan.name}: the platform exposes no database`);
    switch (this.plan.mode) {
      case 'hold':
        return [await this.hold(ctx, url)];
      case 'lock':
        return [await this.lock(ctx, url)];
      case 'leak':
        return this.leak(ctx);
    }
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    await this.sessions.closeAll();
    for (const r of records) {
      if (r.recoveredAtMs !== undefined) continue;
      const type = this.plan.mode === 'leak' ? 'pool.leak-left' : 'pool.released';
      r.recoveredAtMs = ctx.journal.record({ source: 'fault', type, target: r.target, fault: this.plan.name }).atMs;
    }
  }

  private async hold(ctx: FaultContext, url: string): Promise<FaultRecord> {
    const held = await this.sessions.fill(url, `gameday-fault-${this.plan.name}`, this.plan.connections ?? MAX_HELD_CONNECTIONS);
    const e = ctx.journal.record({ source: 'fault', type: 'pool.connections-held', target: 'database', fault: this.plan.name, detail: { held } });
    return { target: 'database', appliedAtMs: e.atMs, detail: { held } };
  }

  private async lock(ctx: FaultContext, url: string): Promise<FaultRecord> {
    const client = await this.sessions.open(url, `gameday-fault-${this.plan.name}`);
    if (!client) throw new HarnessError(`fault ${this.plan.name}: could not open a session to lock the tasks table`);
    await client.query('BEGIN');
    await client.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
    const e = ctx.journal.record({ source: 'fault', type: 'pool.table-locked', target: 'tasks', fault: this.plan.name, detail: { lock: 'ACCESS EXCLUSIVE' } });
    return { target: 'tasks', appliedAtMs: e.atMs };
  }

  private async leak(ctx: FaultContext): Promise<FaultRecord[]> {
    const ready = ctx.deployment.replicas().filter((r) => r.ready && r.port !== undefined);
    const targets = selectTargets(ready, this.plan.replicas.mode, ctx.random, this.plan.replicas.value);
    return Promise.all(
      targets.map(async (replica) => {
        const res = await fetch(`http://127.0.0.1:${replica.port}/faults/leak`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ connections: this.plan.connections ?? ctx.deployment.poolSize ?? 1 }),
          signal: AbortSignal.timeout(LEAK_TIMEOUT_MS),
        });
        const body = await res.text();
        if (!res.ok) throw new HarnessError(`fault ${this.plan.name}: ${replica.name} refused the leak (${res.status} ${body.slice(0, 200)})`);
        const e = ctx.journal.record({ source: 'fault', type: 'pool.leaked', target: replica.name, fault: this.plan.name, detail: { response: body.slice(0, 200) } });
        return { target: replica.name, appliedAtMs: e.atMs };
      }),
    );
  }
}
