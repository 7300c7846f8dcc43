import type { Clock } from '../../core/clock.js';
import type { EventSink } from '../../core/journal.js';
import type { FaultContext, FaultInjector, FaultRecord } from '../../faults/types.js';
import type { FaultPlan } from '../../scenario/plan.js';
import { ChaosObject, deleteVerified } from './chaos.js';
import type { KubeClient, KubeObject } from './client.js';
import { problemOf, type PodTracker, type PodView } from './pods.js';
import { HarnessError } from '../../core/errors.js';
import { byKind, resourceType } from './resources.js';

/** Injection must be confirmed within this (Chaos Mesh selects and acts within a second or two). */
const INJECT_TIMEOUT_MS = 30_000;
/** After the fault's duration, how long Chaos Mesh has to report AllRecovered before the object is deleted anyway. */
const RECOVER_TIMEOUT_MS = 10_000;
const DELETE_TIMEOUT_MS = 30_000;
/** A recovery this long before the object's own duration ends is an early stop. */
const EARLY_MARGIN_MS = 3_000;

export interface FaultDeps {
  client: () => KubeClient;
  tracker: () => PodTracker | undefined;
  journal: EventSink;
  clock: Clock;
  /** The platform deletes whatever a fault left at teardown (Ctrl-C mid-fault included). */
  register: (fault: { cleanup(): Promise<void> }) => void;
}

/**
 * pod-kill and network-delay as Chaos Mesh objects: created at the fault's start, injection
 * confirmed from Selected and AllInjected, recovery from AllRecovered at its end, then deleted and
 * the deletion verified. A pod-kill's victims are the pods the watch sees go while it is active
 * (`replica.killed` at the instant the watch saw each, for platform RTO).
 */
export class ChaosFault implements FaultInjector {
  private objects: ChaosObject[] = [];
  private appliedAtMs?: number;

  constructor(
    readonly plan: FaultPlan,
    private readonly build: () => KubeObject[],
    private readonly deps: FaultDeps,
  ) {}

  async apply(_ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const { journal, clock } = this.deps;
    const client = this.deps.client();
    this.deps.register(this);
    if (this.plan.kind === 'pod-kill') this.deps.tracker()?.attributeLossesTo(this.plan.name);
    this.objects = this.build().map((o) => new ChaosObject(client, o, journal, clock, this.plan.name));
    const records: FaultRecord[] = [];
    for (const chaos of this.objects) {
      await chaos.create();
      this.appliedAtMs = clock.now();
      const pods = await chaos.waitInjected(INJECT_TIMEOUT_MS, signal);
      for (const pod of pods.length > 0 ? pods : [chaos.name]) records.push({ target: pod, appliedAtMs: this.appliedAtMs, detail: { object: `${chaos.type.kind}/${chaos.name}` } });
    }
    return records;
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    // Recovery is confirmed by Chaos Mesh (AllRecovered), then the object goes; the finalizer it
    // holds until it has recovered every record makes the verified deletion a second confirmation.
    // Stopped early (Ctrl-C, a run that ends or aborts mid-fault): Chaos Mesh's duration has not
    // run out, so it will not say AllRecovered by itself; deleting the object is what recovers it.
    const endsAtMs = (this.appliedAtMs ?? ctx.clock.now()) + this.plan.durationMs;
    const early = ctx.clock.now() < endsAtMs - EARLY_MARGIN_MS;
    for (const chaos of this.objects) {
      if (early) {
        ctx.journal.record({ source: 'fault', type: 'chaos.stopped-early', fault: this.plan.name, target: chaos.name, detail: { remainingMs: Math.round(endsAtMs - ctx.clock.now()) } });
        continue;
      }
      const waitMs = Math.max(0, endsAtMs - ctx.clock.now()) + RECOVER_TIMEOUT_MS;
      const recovered = await chaos.waitRecovered(waitMs);
      if (!recovered) ctx.journal.record({ source: 'fault', type: 'chaos.recovery-unconfirmed', fault: this.plan.name, target: chaos.name, detail: { waitedMs: Math.round(waitMs) } });
    }
    await this.cleanup();
    const now = ctx.clock.now();
    for (const r of records) r.recoveredAtMs ??= now;
  }

  async cleanup(): Promise<void> {
    this.deps.tracker()?.attributeLossesTo(undefined);
    const left: string[] = [];
    for (const chaos of this.objects) {
      const leftover = await chaos.delete(DELETE_TIMEOUT_MS);
      if (leftover) left.push(leftover);
    }
    if (left.length > 0) throw new Error(left.join('; '));
  }
}

/**
 * pool-exhaustion hold/lock as a Job running the local platform's SQL with psql against the run's
 * PostgreSQL: applied once its pod runs (the Job's log says when the lock is taken or the sessions
 * held, but Running is as far as the API can tell), recovered by deleting the Job and its pods.
 */
export class JobFault implements FaultInjector {
  private created: KubeObject[] = [];

  constructor(
    readonly plan: FaultPlan,
    private readonly build: () => KubeObject[],
    private readonly deps: FaultDeps,
  ) {}

  async apply(_ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const { journal, clock } = this.deps;
    const client = this.deps.client();
    this.deps.register(this);
    const records: FaultRecord[] = [];
    for (const obj of this.build()) {
      await client.create(obj);
      this.created.push(obj);
      const name = obj.metadata?.name ?? '';
      journal.record({ source: 'fault', type: 'job.created', fault: this.plan.name, target: name });
      const deadline = clock.now() + INJECT_TIMEOUT_MS;
      let phase: string | undefined;
      let problem: string | undefined;
      while (phase === undefined && clock.now() < deadline && !signal?.aborted) {
        const pods = (await client.list(byKind('Pod'), `job-name=${name}`)).items as PodView[];
        phase = pods.map((p) => p.status?.phase).find((p) => p === 'Running' || p === 'Succeeded' || p === 'Failed');
        problem = pods.map((p) => problemOf(p)).find((p) => p !== undefined);
        if (phase === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      if (phase === 'Failed' || (phase === undefined && !signal?.aborted)) {
        const why = problem ?? (phase === 'Failed' ? 'its pod failed' : `its pod was not running after ${INJECT_TIMEOUT_MS / 1000}s`);
        journal.record({ source: 'fault', type: 'job.failed', fault: this.plan.name, target: name, detail: { reason: why } });
        throw new HarnessError(`fault ${this.plan.name}: Job ${name} did not run: ${why}`);
      }
      journal.record({ source: 'fault', type: 'job.running', fault: this.plan.name, target: name, detail: { phase: phase ?? 'aborted' } });
      records.push({ target: name, appliedAtMs: clock.now(), detail: { phase: phase ?? 'aborted' } });
    }
    return records;
  }

  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    await this.cleanup();
    const now = ctx.clock.now();
    for (const r of records) r.recoveredAtMs ??= now;
  }

  async cleanup(): Promise<void> {
    const client = this.deps.client();
    const left: string[] = [];
    for (const obj of this.created.splice(0)) {
      const name = obj.metadata?.name ?? '';
      const leftover = await deleteVerified(client, resourceType(obj.apiVersion, obj.kind ?? ''), name, DELETE_TIMEOUT_MS, this.deps.clock);
      // The Job's pods hold the sessions: they go with it (Background propagation), at once.
      for (const pod of (await client.list(byKind('Pod'), `job-name=${name}`)).items) await client.delete(byKind('Pod'), pod.metadata?.name ?? '', { gracePeriodSeconds: 0 });
      this.deps.journal.record({ source: 'fault', type: leftover ? 'job.left-behind' : 'job.deleted', fault: this.plan.name, target: name, ...(leftover ? { detail: { reason: leftover } } : {}) });
      if (leftover) left.push(leftover);
    }
    if (left.length > 0) throw new Error(left.join('; '));
  }
}
