import type { Clock } from '../../core/clock.js';
import type { EventSink } from '../../core/journal.js';
import type { KubeClient, KubeObject } from './client.js';
import { KubeApiError } from './errors.js';
import { resourceType, type ResourceType } from './resources.js';

interface ChaosCondition {
  type?: string;
  status?: string;
  reason?: string;
}
interface ChaosStatus {
  conditions?: ChaosCondition[];
  experiment?: { desiredPhase?: string; containerRecords?: { id?: string; phase?: string; injectedCount?: number; recoveredCount?: number }[] };
}

const POLL_MS = 100;

export function conditionTrue(obj: KubeObject | undefined, type: string): boolean {
  return ((obj?.status as ChaosStatus | undefined)?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

function conditionFalse(obj: KubeObject | undefined, type: string): boolean {
  return ((obj?.status as ChaosStatus | undefined)?.conditions ?? []).some((c) => c.type === type && c.status === 'False');
}

/** The pods Chaos Mesh acted on: its records' ids are `namespace/pod`. */
export function chaosTargets(obj: KubeObject | undefined): string[] {
  const records = (obj?.status as ChaosStatus | undefined)?.experiment?.containerRecords ?? [];
  return records.map((r) => (r.id ?? '').split('/').pop() ?? '').filter((id) => id.length > 0);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One Chaos Mesh object of a fault, through its life: created, injection confirmed from its status
 * conditions (Selected, then AllInjected), recovery from AllRecovered, then deleted and the
 * deletion verified (gone from the API; a finalizer that holds it past the timeout is cleared, and
 * an object that still will not go is reported by name).
 */
export class ChaosObject {
  readonly type: ResourceType;
  readonly name: string;
  private created = false;
  private deleted = false;

  constructor(
    private readonly client: KubeClient,
    readonly object: KubeObject,
    private readonly journal: EventSink,
    private readonly clock: Clock,
    private readonly fault: string,
  ) {
    this.type = resourceType(object.apiVersion, object.kind ?? '');
    this.name = object.metadata?.name ?? '';
  }

  async create(): Promise<void> {
    await this.client.create(this.object);
    this.created = true;
    this.journal.record({ source: 'fault', type: 'chaos.created', fault: this.fault, target: this.name, detail: { kind: this.type.kind } });
  }

  /** Waits for Selected and AllInjected; returns the pods it acted on. */
  async waitInjected(timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
    const deadline = this.clock.now() + timeoutMs;
    let last: KubeObject | undefined;
    while (this.clock.now() < deadline && !signal?.aborted) {
      last = await this.client.get(this.type, this.name);
      if (!last) throw new KubeApiError(`${this.type.kind} ${this.name} vanished before it was injected`, 404, 'NotFound');
      if (conditionFalse(last, 'Selected') && this.clock.now() > deadline - timeoutMs + 2_000) {
        throw new KubeApiError(`${this.type.kind} ${this.name} selected no pod: its selector matches no running pod in namespace ${this.client.namespace}`, undefined, 'NotSelected');
      }
      if (conditionTrue(last, 'Selected') && conditionTrue(last, 'AllInjected')) {
        const targets = chaosTargets(last);
        this.journal.record({ source: 'fault', type: 'chaos.injected', fault: this.fault, target: this.name, detail: { kind: this.type.kind, pods: targets.join(',') } });
        return targets;
      }
      await sleep(POLL_MS, signal);
    }
    if (signal?.aborted) return chaosTargets(last);
    const conditions = ((last?.status as ChaosStatus | undefined)?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(', ') || 'no status';
    throw new KubeApiError(`${this.type.kind} ${this.name} was not injected within ${Math.round(timeoutMs / 1000)}s (conditions: ${conditions}); is the Chaos Mesh controller running?`, undefined, 'NotInjected');
  }

  /** Waits for AllRecovered (Chaos Mesh undid the fault); false on timeout. */
  async waitRecovered(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline && !signal?.aborted) {
      const obj = await this.client.get(this.type, this.name);
      if (!obj || conditionTrue(obj, 'AllRecovered')) {
        this.journal.record({ source: 'fault', type: 'chaos.recovered', fault: this.fault, target: this.name, detail: { kind: this.type.kind } });
        return true;
      }
      await sleep(POLL_MS, signal);
    }
    return false;
  }

  /** Deletes and verifies; idempotent. Returns the leftover's description, or undefined when gone. */
  async delete(timeoutMs: number): Promise<string | undefined> {
    if (!this.created || this.deleted) return undefined;
    const leftover = await deleteVerified(this.client, this.type, this.name, timeoutMs, this.clock);
    this.deleted = leftover === undefined;
    this.journal.record({
      source: 'fault',
      type: leftover ? 'chaos.left-behind' : 'chaos.deleted',
      fault: this.fault,
      target: this.name,
      detail: { kind: this.type.kind, ...(leftover ? { reason: leftover } : {}) },
    });
    return leftover;
  }
}

/**
 * Deletes one object and waits until the API no longer has it. An object still there at half the
 * timeout with finalizers (Chaos Mesh's `chaos-mesh/records`, whose controller may be gone) has them
 * cleared; returns why it is still there at the timeout, or undefined once it is gone.
 */
export async function deleteVerified(client: KubeClient, type: ResourceType, name: string, timeoutMs: number, clock: Clock): Promise<string | undefined> {
  await client.delete(type, name);
  const start = clock.now();
  let clearedFinalizers = false;
  let last: KubeObject | undefined;
  while (clock.now() - start < timeoutMs) {
    last = await client.get(type, name);
    if (!last) return undefined;
    const finalizers = (last.metadata?.finalizers ?? []) as string[];
    if (!clearedFinalizers && finalizers.length > 0 && clock.now() - start >= timeoutMs / 2) {
      clearedFinalizers = true;
      await client.mergePatch(type, name, { metadata: { finalizers: null } });
    }
    await sleep(POLL_MS);
  }
  const finalizers = (last?.metadata?.finalizers ?? []) as string[];
  return `${type.kind} ${name} still exists ${Math.round(timeoutMs / 1000)}s after its deletion${finalizers.length ? ` (finalizers: ${finalizers.join(', ')})` : ''}${last?.metadata?.deletionTimestamp ? ', deletionTimestamp set' : ''}`;
}
