import type { Clock } from '../core/clock.js';
import type { EventSink } from '../core/journal.js';
import type { FaultContext, FaultInjector, FaultRecord } from '../faults/types.js';

interface Scheduled {
  injector: FaultInjector;
  records: FaultRecord[];
  applied: boolean;
  recovered: boolean;
}

/**
 * Runs each fault at its offset and recovers it at the end of its duration. `recoverAll` may be
 * called at any time (end of run, error, signal) and recovers whatever was applied, once.
 */
export class FaultSchedule {
  private readonly items: Scheduled[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private failure?: Error;

  constructor(
    injectors: FaultInjector[],
    private readonly ctx: FaultContext,
    private readonly clock: Clock,
    private readonly journal: EventSink,
    /** Runs just before each fault is applied (the forensic snapshot); its failure never stops the fault. */
    private readonly beforeApply?: (fault: FaultInjector) => Promise<void>,
  ) {
    this.items = injectors.map((injector) => ({ injector, records: [], applied: false, recovered: false }));
  }

  /** Arms the timers relative to the run clock's zero. */
  start(): void {
    for (const item of this.items) {
      const { atMs, durationMs } = item.injector.plan;
      this.at(atMs, () => this.apply(item));
      this.at(atMs + durationMs, () => this.recover(item));
    }
  }

  /** An error from applying or recovering a fault, if one happened (the run then ends as an error). */
  error(): Error | undefined {
    return this.failure;
  }

  async recoverAll(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const item of this.items) await this.recover(item);
  }

  private at(offsetMs: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void fn();
    }, Math.max(0, offsetMs - this.clock.now()));
    this.timers.add(timer);
  }

  private async apply(item: Scheduled): Promise<void> {
    const { plan } = item.injector;
    item.applied = true;
    await this.beforeApply?.(item.injector).catch(() => undefined);
    this.journal.record({ source: 'fault', type: 'fault.started', fault: plan.name, detail: { kind: plan.kind } });
    try {
      item.records = await item.injector.apply(this.ctx);
      this.journal.record({ source: 'fault', type: 'fault.applied', fault: plan.name, detail: { targets: item.records.length } });
    } catch (err) {
      this.fail(item, 'fault.apply-failed', err);
    }
  }

  private async recover(item: Scheduled): Promise<void> {
    if (!item.applied || item.recovered) return;
    item.recovered = true;
    const { plan } = item.injector;
    try {
      await item.injector.recover(item.records, this.ctx);
      this.journal.record({ source: 'fault', type: 'fault.recovered', fault: plan.name, detail: { targets: item.records.length } });
    } catch (err) {
      this.fail(item, 'fault.recover-failed', err);
    }
  }

  private fail(item: Scheduled, type: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure ??= error;
    this.journal.record({ source: 'fault', type, fault: item.injector.plan.name, detail: { error: error.message } });
  }
}
