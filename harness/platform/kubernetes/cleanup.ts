import type { Clock } from '../../core/clock.js';
import type { KubeClient, KubeObject } from './client.js';
import { deleteVerified } from './chaos.js';
import { KubeApiError } from './errors.js';
import { byKind, CLEANUP_KINDS, type ResourceType } from './resources.js';
import { VELERO_NAMESPACE } from '../../kube/velero.js';
import { VELERO_TYPES } from '../../kube/velero-run.js';

export interface CleanupResult {
  /** `Kind/name` of every object deleted. */
  deleted: string[];
  /** Objects still there at the end, each with why (finalizers, deletionTimestamp). */
  leftovers: string[];
  /** Kinds the cluster does not serve (Chaos Mesh not installed): nothing of them can be left. */
  absentKinds: string[];
  /**
   * Velero kinds gameday may not list in the velero namespace (403: a Role for runs without a
   * drill), each with the API server's reason: a drill's Backup there could not be checked.
   */
  unreadable: string[];
}

const POLL_MS = 100;

/** Where objects of a kind are looked for: the run's namespace, or Velero's own for the drill's Backups and Restores. */
interface Source {
  kind: string;
  type: ResourceType;
  namespace: string;
  /** Which of the labelled objects belong to this namespace's runs (Velero's namespace holds every namespace's). */
  keep(obj: KubeObject): boolean;
}

type Found = { type: ResourceType; obj: KubeObject; namespace: string };

/**
 * The kinds gameday creates in `namespace`, then the disaster-recovery drill's Velero Backups and
 * Restores, which live in the velero namespace: of those, only the ones acting on `namespace`
 * (spec.includedNamespaces), so that `--all-runs` in one namespace leaves other namespaces' drills alone.
 */
function sources(namespace: string): Source[] {
  const own = CLEANUP_KINDS.map((kind) => ({ kind, type: byKind(kind), namespace, keep: () => true }));
  const velero = Object.values(VELERO_TYPES).map((type) => ({
    kind: type.kind,
    type,
    namespace: VELERO_NAMESPACE,
    keep: (obj: KubeObject) => ((obj.spec as { includedNamespaces?: unknown } | undefined)?.includedNamespaces as unknown[] | undefined)?.includes(namespace) === true,
  }));
  return [...own, ...velero];
}

/**
 * Deletes every object of the kinds gameday creates that matches `selector` (a run's label, or
 * every run's), chaos objects first so that faults stop before their targets go, then verifies
 * that the API has none left (the drill's Velero Backups and Restores included, in the velero
 * namespace): a chaos object held by a finalizer past half the timeout has its
 * finalizers cleared; whatever is still there at the timeout is reported by name.
 */
export async function deleteLabelled(client: KubeClient, selector: string, timeoutMs: number, clock: Clock): Promise<CleanupResult> {
  const result: CleanupResult = { deleted: [], leftovers: [], absentKinds: [], unreadable: [] };
  const from = sources(client.namespace);
  const found: Found[] = [];
  for (const src of from) {
    try {
      const list = await client.list(src.type, selector, src.namespace);
      for (const obj of list.items) if (src.keep(obj)) found.push({ type: src.type, obj, namespace: src.namespace });
    } catch (err) {
      // Velero not installed (its CRDs not served, or no velero namespace): no drill object can be there.
      if (err instanceof KubeApiError && (err.notFound === 'type' || (err.notFound === 'namespace' && src.namespace !== client.namespace))) {
        result.absentKinds.push(src.kind);
        continue;
      }
      if (err instanceof KubeApiError && err.status === 403 && src.namespace !== client.namespace) {
        result.unreadable.push(`${src.kind} in namespace ${src.namespace}: ${err.message}`);
        result.absentKinds.push(src.kind);
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
  const refused = new Map<string, string>();
  for (const { type, obj, namespace } of rest) {
    const name = obj.metadata?.name ?? '';
    // Pods go at once: they belong to this run's workload, nobody waits for their grace.
    // A refused deletion (403: a Role without delete on velero.io backups) leaves the object, named below with why.
    const err = await client.delete(type, name, { namespace, ...(type.kind === 'Pod' ? { gracePeriodSeconds: 0 } : {}) }).then(() => undefined, (e: unknown) => e as Error);
    if (err) refused.set(`${namespace}/${type.kind}/${name}`, err.message);
    else result.deleted.push(`${type.kind}/${namespace === client.namespace ? '' : `${namespace}/`}${name}`);
  }
  // Verify: nothing of any kind left with the label (owners' dependents included).
  const remaining = async (): Promise<Found[]> => {
    const out: Found[] = [];
    for (const src of from) {
      if (result.absentKinds.includes(src.kind)) continue;
      for (const obj of (await client.list(src.type, selector, src.namespace)).items) if (src.keep(obj)) out.push({ type: src.type, obj, namespace: src.namespace });
    }
    return out;
  };
  let left = await remaining();
  let nudged = false;
  while (left.length > 0 && clock.now() - start < timeoutMs) {
    if (!nudged && clock.now() - start >= timeoutMs / 2) {
      nudged = true;
      // Dependents the garbage collector has not reached, and finalizers nobody will clear.
      for (const { type, obj, namespace } of left) {
        const name = obj.metadata?.name ?? '';
        if (((obj.metadata?.finalizers ?? []) as string[]).length > 0) await client.mergePatch(type, name, { metadata: { finalizers: null } }, namespace).catch(() => undefined);
        if (!obj.metadata?.deletionTimestamp) await client.delete(type, name, { namespace, ...(type.kind === 'Pod' ? { gracePeriodSeconds: 0 } : {}) }).catch(() => undefined);
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = await remaining();
  }
  for (const { type, obj, namespace } of left) {
    const finalizers = (obj.metadata?.finalizers ?? []) as string[];
    result.leftovers.push(`${type.kind} ${namespace === client.namespace ? '' : `${namespace}/`}${obj.metadata?.name ?? '?'} still exists${finalizers.length ? ` (finalizers: ${finalizers.join(', ')})` : ''}${obj.metadata?.deletionTimestamp ? ', deletionTimestamp set' : ''}${refused.has(`${namespace}/${type.kind}/${obj.metadata?.name}`) ? ` (its deletion failed: ${refused.get(`${namespace}/${type.kind}/${obj.metadata?.name}`)})` : ''}`);
  }
  return result;
}
