import type { Clock } from '../../core/clock.js';
import type { KubeClient, KubeObject } from './client.js';
import { deleteVerified } from './chaos.js';
import { KubeApiError } from './errors.js';
import { byKind, CLEANUP_KINDS, type ResourceType } from './resources.js';

export interface CleanupResult {
  /** `Kind/name` of every object deleted. */
  deleted: string[];
  /** Objects still there at the end, each with why (finalizers, deletionTimestamp). */
  leftovers: string[];
  /** Kinds the cluster does not serve (Chaos Mesh not installed): nothing of them can be left. */
  absentKinds: string[];
}

const POLL_MS = 100;

/**
 * Deletes every object of the kinds gameday creates that matches `selector` (a run's label, or
 * every run's), chaos objects first so that faults stop before their targets go, then verifies
 * that the API has none left: a chaos object held by a finalizer past half the timeout has its
 * finalizers cleared; whatever is still there at the timeout is reported by name.
 */
export async function deleteLabelled(client: KubeClient, selector: string, timeoutMs: number, clock: Clock): Promise<CleanupResult> {
  const result: CleanupResult = { deleted: [], leftovers: [], absentKinds: [] };
  const found: { type: ResourceType; obj: KubeObject }[] = [];
  for (const kind of CLEANUP_KINDS) {
    const type = byKind(kind);
    try {
      const list = await client.list(type, selector);
      for (const obj of list.items) found.push({ type, obj });
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound === 'type') {
        result.absentKinds.push(kind);
        continue;
      }
      throw err;
    }
  }
  const start = clock.now();
  // Chaos objects one by one, each verified (its finalizer recovers the fault); the rest in bulk.
  for (const { type, obj } of found.filter((f) => f.type.group === 'chaos-mesh.org')) {
    const name = obj.metadata?.name ?? '';
    const left = await deleteVerified(client, type, name, Math.max(1_000, timeoutMs / 2), clock);
    if (left) result.leftovers.push(left);
    else result.deleted.push(`${type.kind}/${name}`);
  }
  const rest = found.filter((f) => f.type.group !== 'chaos-mesh.org');
  for (const { type, obj } of rest) {
    const name = obj.metadata?.name ?? '';
    // Pods go at once: they belong to this run's workload, nobody waits for their grace.
    await client.delete(type, name, type.kind === 'Pod' ? { gracePeriodSeconds: 0 } : {});
    result.deleted.push(`${type.kind}/${name}`);
  }
  // Verify: nothing of any kind left with the label (owners' dependents included).
  const remaining = async (): Promise<{ type: ResourceType; obj: KubeObject }[]> => {
    const out: { type: ResourceType; obj: KubeObject }[] = [];
    for (const kind of CLEANUP_KINDS) {
      if (result.absentKinds.includes(kind)) continue;
      const type = byKind(kind);
      for (const obj of (await client.list(type, selector)).items) out.push({ type, obj });
    }
    return out;
  };
  let left = await remaining();
  let nudged = false;
  while (left.length > 0 && clock.now() - start < timeoutMs) {
    if (!nudged && clock.now() - start >= timeoutMs / 2) {
      nudged = true;
      // Dependents the garbage collector has not reached, and finalizers nobody will clear.
      for (const { type, obj } of left) {
        const name = obj.metadata?.name ?? '';
        if (((obj.metadata?.finalizers ?? []) as string[]).length > 0) await client.mergePatch(type, name, { metadata: { finalizers: null } }).catch(() => undefined);
        if (!obj.metadata?.deletionTimestamp) await client.delete(type, name, type.kind === 'Pod' ? { gracePeriodSeconds: 0 } : {});
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = await remaining();
  }
  for (const { type, obj } of left) {
    const finalizers = (obj.metadata?.finalizers ?? []) as string[];
    result.leftovers.push(`${type.kind} ${obj.metadata?.name ?? '?'} still exists${finalizers.length ? ` (finalizers: ${finalizers.join(', ')})` : ''}${obj.metadata?.deletionTimestamp ? ', deletionTimestamp set' : ''}`);
  }
  return result;
}
