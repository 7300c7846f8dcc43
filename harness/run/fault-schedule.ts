import type { Clock } from '../core/clock.js';
import type { EventSink } from '../core/journal.js';
import type { FaultContext, FaultInjector, FaultRecord } from '../faults/types.js';

interface Scheduled {
  injector: FaultInjector;
  records: FaultRecord[];
  /** Aborted when the fault's recovery starts: an apply still under way stops waiting (see FaultInjector.apply). */
  stop: AbortController;
  /** The snapshot and the apply, once the fault's time came; never rejects. */
  applying?: Promise<void>;
  /** Whether `injector.apply` was called (even if it then failed: it may have done part of its work). */
  invoked: boolean;
  /** The recovery, once started; never rejects. */
  recovery?: Promise<void>;
  /** Settles when the recovery has finished (the next fault waits for it). */
  recovered: Promise<void>;
  markRecovered: () => void;
}

function scheduled(injector: FaultInjector): Scheduled {
  let markRecovered = (): void => undefined;
  const recovered = new Promise<void>((resolve) => (markRecovered = resolve));
  return { injector, records: [], stop: new AbortController(), invoked: false, recovered, markRecovered };
}

/**
 * Runs each fault at its offset and recovers it at the end of its duration. `recoverAll` may be
 * called at any time (end of run, error, signal) and recovers whatever was applied, once.
 *
 * Apply and recover of a fault never overlap: a recovery that falls due while the forensic
 * snapshot or the apply is still running tells the apply to stop waiting, waits for it, then
 * undoes what it reported. Once `recoverAll` has begun no apply starts; one already under way is
 * waited for and recovered. Faults run in order: the next is applied only once the previous one
 * is recovered, so two faults never act at once (the scenario's validation promises as much).
 */
export class FaultSchedule {
  private readonly items: Scheduled[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closing = false;
  private failure?: Error;

  constructor(
    injectors: FaultInjector[],
    private readonly ctx: FaultContext,
    private readonly clock: Clock,
    private readonly journal: EventSink,
    /** Runs just before each fault is applied (the forensic snapshot); its failure never stops the fault. */
    private readonly beforeApply?: (fault: FaultInjector) => Promise<void>,
  ) {
    this.items = injectors.map(scheduled);
  }

  /** Arms the apply timers relative to the run clock's zero; each recovery timer is armed when its fault starts. */
  start(): void {
    this.items.forEach((item, i) => this.at(item.injector.plan.atMs, () => this.startFault(item, this.items[i - 1])));
  }

  /** An error from applying or recovering a fault, if one happened (the run then ends as an error). */
  error(): Error | undefined {
    return this.failure;
  }

  /** Stops the schedule, then recovers every fault that was applied or is being applied, in order. */
  async recoverAll(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const item of this.items) item.stop.abort();
    for (const item of this.items) await this.recover(item);
  }

  private at(offsetMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, Math.max(0, offsetMs - this.clock.now()));
    this.timers.add(timer);
  }

  private startFault(item: Scheduled, previous: Scheduled | undefined): void {
    if (this.closing || item.applying) return;
    item.applying = this.apply(item, previous);
    const { atMs, durationMs } = item.injector.plan;
    // Armed only now, so a recovery can never be due before its fault has started.
    this.at(atMs + durationMs, () => void this.recover(item));
  }

  private async apply(item: Scheduled, previous: Scheduled | undefined): Promise<void> {
    if (previous?.applying) await previous.recovered;
    const { plan } = item.injector;
    if (!this.closing) await this.beforeApply?.(item.injector).catch(() => undefined);
    if (this.closing) {
      this.journal.record({ source: 'fault', type: 'fault.skipped', fault: plan.name, detail: { reason: 'the run ended before the fault was applied' } });
      return;
    }
    this.journal.record({ source: 'fault', type: 'fault.started', fault: plan.name, detail: { kind: plan.kind } });
    try {
      item.invoked = true;
      item.records = await item.injector.apply(this.ctx, item.stop.signal);
      this.journal.record({ source: 'fault', type: 'fault.applied', fault: plan.name, detail: { targets: item.records.length } });
    } catch (err) {
      this.fail(item, 'fault.apply-failed', err);
    }
  }

  /** Idempotent: every caller gets the one recovery, and waits for it to finish. */
  private recover(item: Scheduled): Promise<void> {
    item.recovery ??= (async () => {
      item.stop.abort();
      await item.applying;
      if (!item.invoked) return;
      const { plan } = item.injector;
      try {
        await item.injector.recover(item.records, this.ctx);
        this.journal.record({ source: 'fault', type: 'fault.recovered', fault: plan.name, detail: { targets: item.records.length } });
      } catch (err) {
        this.fail(item, 'fault.recover-failed', err);
      }
    })().finally(item.markRecovered);
    return item.recovery;
  }

  private fail(item: Scheduled, type: 'fault.apply-failed' | 'fault.recover-failed', err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure ??= error;
    this.journal.record({ source: 'fault', type, fault: item.injector.plan.name, detail: { error: error.message } });
  }
}
