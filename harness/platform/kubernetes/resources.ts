/**
 * The resource types gameday creates, lists or watches: enough of the API's discovery to build
 * paths without asking the server (a missing CRD then shows as a 404 on first use, which the
 * error translation names).
 */
export interface ResourceType {
  kind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
}

const TYPES: readonly ResourceType[] = [
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods' },
  { kind: 'Service', group: '', version: 'v1', plural: 'services' },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets' },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps' },
  { kind: 'PersistentVolumeClaim', group: '', version: 'v1', plural: 'persistentvolumeclaims' },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts' },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments' },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets' },
  { kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets' },
  { kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs' },
  { kind: 'PodChaos', group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'podchaos' },
  { kind: 'NetworkChaos', group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'networkchaos' },
  { kind: 'StressChaos', group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'stresschaos' },
  { kind: 'TestRun', group: 'k6.io', version: 'v1alpha1', plural: 'testruns' },
  { kind: 'PodMetrics', group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods' },
];

/** Kinds gameday may leave behind if it dies: what the cleanup lists, chaos objects first, then k6 operator TestRuns (their runners stop with them). */
export const CLEANUP_KINDS: readonly string[] = ['PodChaos', 'NetworkChaos', 'StressChaos', 'TestRun', 'Job', 'Deployment', 'StatefulSet', 'Service', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Pod'];

export function resourceType(apiVersion: string | undefined, kind: string): ResourceType {
  const found = TYPES.find((t) => t.kind === kind && (apiVersion === undefined || apiVersionOf(t) === apiVersion));
  if (!found) throw new Error(`gameday does not know the resource ${apiVersion ?? '?'}/${kind}`);
  return found;
}

export function byKind(kind: string): ResourceType {
  return resourceType(undefined, kind);
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `deployments.apps`, `pods`: how RBAC and kubectl name a resource. */
export function qualifiedName(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

/** The collection's path in a namespace: /api/v1/namespaces/ns/pods, /apis/apps/v1/namespaces/ns/deployments. */
export function collectionPath(t: ResourceType, namespace: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${t.plural}`;
}
