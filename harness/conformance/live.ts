import { connect } from '../platform/kubernetes/config.js';
import { KubeClient, selectorOf, type KubeObject } from '../platform/kubernetes/client.js';
import { KubeApiError } from '../platform/kubernetes/errors.js';
import { byKind, type ResourceType } from '../platform/kubernetes/resources.js';
import type { Inventory } from './checks.js';
import type { FoundObject } from './manifests.js';
import type { ConformanceMetric, ConformancePlan } from './types.js';

const VPA: ResourceType = { kind: 'VerticalPodAutoscaler', group: 'autoscaling.k8s.io', version: 'v1', plural: 'verticalpodautoscalers' };
const SCHEDULE: ResourceType = { kind: 'Schedule', group: 'velero.io', version: 'v1', plural: 'schedules' };
const BACKUP: ResourceType = { kind: 'Backup', group: 'velero.io', version: 'v1', plural: 'backups' };
const CHAOS_KINDS = ['PodChaos', 'NetworkChaos', 'StressChaos'];

const found = (o: KubeObject): FoundObject => ({ obj: o as FoundObject['obj'], where: '' });

/**
 * A list that may find its type or namespace absent: a missing CRD (Velero, the VPA, Chaos Mesh
 * not installed) or namespace is a sentence for the findings; any other failure (unreachable,
 * forbidden) is thrown as translated by the client.
 */
async function listOrWhy(client: KubeClient, t: ResourceType, namespace: string, install: string, selector?: string): Promise<{ items: FoundObject[] } | { why: string }> {
  try {
    return { items: (await client.list(t, selector, namespace)).items.map(found) };
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    const crd = `${t.plural}.${t.group}`;
    if (err.notFound === 'type') return { why: `the API server does not serve ${crd}/${t.version}: is ${install} installed? (kubectl get crd ${crd})` };
    if (err.notFound === 'namespace') return { why: `namespace ${namespace} does not exist (where ${t.kind} objects were looked for): is ${install} installed there?` };
    throw err;
  }
}

/** The cluster's view of the criteria: the Deployment and its pods, the VPAs, Velero's Schedules and Backups, chaos objects. */
export async function readLiveInventory(plan: ConformancePlan, env: NodeJS.ProcessEnv = process.env): Promise<{ inventory: Inventory; namespace: string }> {
  const conn = connect({ ...(plan.context ? { context: plan.context } : {}), ...(plan.namespace ? { namespace: plan.namespace } : {}), env });
  const ns = conn.namespace;
  const client = new KubeClient(conn.kc, ns);
  const objects: FoundObject[] = [];
  const unavailable: Partial<Record<ConformanceMetric, string>> = {};
  let pods: FoundObject[] = [];
  const deployment = await client.get(byKind('Deployment'), plan.deployment, ns);
  if (deployment) {
    objects.push(found({ ...deployment, apiVersion: 'apps/v1', kind: 'Deployment' }));
    const match = (deployment.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {};
    pods = (await client.list(byKind('Pod'), selectorOf(match), ns)).items.filter((p) => !p.metadata?.deletionTimestamp).map(found);
  }
  const vpas = await listOrWhy(client, VPA, ns, 'the Vertical Pod Autoscaler');
  if ('why' in vpas) unavailable['conformance.rightSizing'] = vpas.why;
  else objects.push(...vpas.items);
  const schedules = await listOrWhy(client, SCHEDULE, plan.backup.veleroNamespace, 'Velero');
  let backups: FoundObject[] = [];
  if ('why' in schedules) {
    for (const m of ['conformance.backupSchedule', 'conformance.backupRetention', 'conformance.backupHook'] as const) unavailable[m] = schedules.why;
  } else {
    objects.push(...schedules.items);
    const b = await listOrWhy(client, BACKUP, plan.backup.veleroNamespace, 'Velero');
    if ('why' in b) unavailable['conformance.backupHook'] = b.why;
    else backups = b.items;
  }
  // Chaos Mesh absent means no chaos object to review, not a failure.
  for (const where of [...new Set([ns, ...plan.chaosNamespaces])]) {
    for (const kind of CHAOS_KINDS) {
      const r = await listOrWhy(client, byKind(kind), where, 'Chaos Mesh');
      if ('items' in r) objects.push(...r.items);
    }
  }
  const source = `context ${conn.context} (${conn.server})`;
  return { inventory: { mode: 'live', objects, pods, backups, unavailable, nowMs: Date.now(), source }, namespace: ns };
}
