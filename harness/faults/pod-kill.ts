import { HarnessError } from '../core/errors.js';
import type { PodKillFaultPlan } from '../scenario/plan.js';
import { selectTargets } from './selector.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

/**
 * PodChaos `pod-kill`: kill the selected ready replicas at once (locally SIGKILL). Nothing to undo — the platform's
 * ReplicaSet replaces them — so recover only marks the records; the journal's replica events
 * (left Service, replacement started, replacement ready) tell how recovery went.
 */
export class PodKill implements FaultInjector<PodKillFaultPlan> {
  constructor(readonly plan: PodKillFaultPlan) {}

  async apply(ctx: FaultContext): Promise<FaultRecord[]> {
    const control = ctx.platform.replicaControl;
    if (!control) throw new HarnessError(`fault ${this.plan.name}: platform "${ctx.platform.kind}" cannot kill replicas`);
    const running = ctx.deployment.replicas().filter((r) => r.ready);
    const targets = selectTargets(running, this.plan.mode, ctx.random, this.plan.value);
    if (targets.length === 0) {
      ctx.journal.record({ source: 'fault', type: 'fault.no-targets', fault: this.plan.name, detail: { mode: this.plan.mode, candidates: running.length } });
    }
    // One after another, in the order picked (the journal's kill events keep that order).
    const records: FaultRecord[] = [];
    for (const replica of targets) {
      const { killed, detail } = await control.kill(replica.name, { how: 'kill' });
      const event = ctx.journal.record({ source: 'fault', type: killed ? 'replica.killed' : 'replica.kill-missed', target: replica.name, fault: this.plan.name, detail });
      records.push({ target: replica.name, appliedAtMs: event.atMs, detail: { killed } });
    }
    return records;
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    for (const r of records) r.recoveredAtMs ??= ctx.clock.now();
  }
}
