import { HarnessError } from '../core/errors.js';
import type { NetworkDelayFaultPlan } from '../scenario/plan.js';
import type { NetworkTarget } from '../platform/types.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

/**
 * NetworkChaos `delay` on the path between the replicas and PostgreSQL: every replica's traffic
 * through the platform's latency proxy is held `latency ± jitter`. Recover clears the delay.
 */
export class NetworkDelay implements FaultInjector<NetworkDelayFaultPlan> {
  constructor(readonly plan: NetworkDelayFaultPlan) {}

  async apply(ctx: FaultContext): Promise<FaultRecord[]> {
    const control = ctx.platform.networkControl;
    if (!control) throw new HarnessError(`fault ${this.plan.name}: platform "${ctx.platform.kind}" cannot delay network traffic`);
    const { delay, direction } = this.plan;
    const target = networkTarget(this.plan);
    if (!control.supports(target)) throw new HarnessError(`fault ${this.plan.name}: platform "${ctx.platform.kind}" cannot delay traffic of ${this.plan.selector}`);
    await control.delay({ target, delay, direction });
    const event = ctx.journal.record({
      source: 'fault',
      type: 'network.delayed',
      target: this.plan.selector,
      fault: this.plan.name,
      detail: { latencyMs: delay.latencyMs, jitterMs: delay.jitterMs, correlation: delay.correlation, direction },
    });
    return [{ target: this.plan.selector, appliedAtMs: event.atMs }];
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    const pending = records.filter((r) => r.recoveredAtMs === undefined);
    if (pending.length === 0) return;
    await ctx.platform.networkControl?.clearDelay(networkTarget(this.plan));
    for (const r of pending) {
      const event = ctx.journal.record({ source: 'fault', type: 'network.restored', target: r.target, fault: this.plan.name });
      r.recoveredAtMs = event.atMs;
    }
  }
}

/** The scenario's selector as a platform network target. */
export function networkTarget(plan: NetworkDelayFaultPlan): NetworkTarget {
  switch (plan.selector) {
    case 'database':
      return { kind: 'database' };
  }
}
