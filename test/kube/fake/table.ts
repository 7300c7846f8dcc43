// meta.k8s.io/v1 Table output, which kubectl asks for (`Accept: ...;as=Table`) to print `get`.
import type { ResourceDef } from './resources.js';
import type { KubeObject } from './store.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  cell: (o: KubeObject) => unknown;
}

/** "5s", "3m", "2h" as kubectl's duration.HumanDuration writes ages (simplified). */
export function age(ts: string | undefined): string {
  if (ts === undefined) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type PodStatus = {
  phase?: string;
  reason?: string;
  containerStatuses?: { ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
};

/** The STATUS column of `kubectl get pods`: the waiting/terminated reason of a container wins over the phase. */
export function podStatusColumn(o: KubeObject): string {
  const st = (o.status ?? {}) as PodStatus;
  if (o.metadata.deletionTimestamp !== undefined) return 'Terminating';
  let reason = st.reason ?? st.phase ?? 'Unknown';
  for (const c of st.containerStatuses ?? []) {
    const r = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (r !== undefined && r !== '') reason = r;
  }
  return reason;
}

/** A simple `.a.b.c` JSONPath, as CRD printer columns use. */
function dotted(o: unknown, path: string): unknown {
  return path
    .split('.')
    .filter((s) => s !== '')
    .reduce<unknown>((acc, k) => (acc !== null && typeof acc === 'object' ? (acc as Record<string, unknown>)[k] : undefined), o) ?? null;
}

function columns(r: ResourceDef): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
  const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };
  const spec = (o: KubeObject): Record<string, unknown> => (o.spec ?? {}) as Record<string, unknown>;
  const status = (o: KubeObject): Record<string, unknown> => (o.status ?? {}) as Record<string, unknown>;
  switch (r.plural) {
    case 'pods':
      return [
        name,
        {
          name: 'Ready',
          type: 'string',
          cell: (o) => {
            const cs = ((o.status ?? {}) as PodStatus).containerStatuses ?? [];
            const total = ((spec(o).containers as unknown[]) ?? []).length;
            return `${cs.filter((c) => c.ready === true).length}/${total}`;
          },
        },
        { name: 'Status', type: 'string', cell: podStatusColumn },
        { name: 'Restarts', type: 'string', cell: (o) => String((((o.status ?? {}) as PodStatus).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0)) },
        ageCol,
      ];
    case 'deployments':
      return [
        name,
        { name: 'Ready', type: 'string', cell: (o) => `${(status(o).readyReplicas as number) ?? 0}/${(spec(o).replicas as number) ?? 0}` },
        { name: 'Up-to-date', type: 'integer', cell: (o) => (status(o).updatedReplicas as number) ?? 0 },
        { name: 'Available', type: 'integer', cell: (o) => (status(o).availableReplicas as number) ?? 0 },
        ageCol,
      ];
    case 'replicasets':
      return [
        name,
        { name: 'Desired', type: 'integer', cell: (o) => (spec(o).replicas as number) ?? 0 },
        { name: 'Current', type: 'integer', cell: (o) => (status(o).replicas as number) ?? 0 },
        { name: 'Ready', type: 'integer', cell: (o) => (status(o).readyReplicas as number) ?? 0 },
        ageCol,
      ];
    case 'jobs':
      return [
        name,
        { name: 'Status', type: 'string', cell: (o) => (((status(o).conditions ?? []) as { type: string; status: string }[]).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type ?? 'Running') },
        { name: 'Completions', type: 'string', cell: (o) => `${(status(o).succeeded as number) ?? 0}/${(spec(o).completions as number) ?? 1}` },
        ageCol,
      ];
    case 'statefulsets':
      return [name, { name: 'Ready', type: 'string', cell: (o) => `${(status(o).readyReplicas as number) ?? 0}/${(spec(o).replicas as number) ?? 0}` }, ageCol];
    case 'namespaces':
      return [name, { name: 'Status', type: 'string', cell: (o) => (status(o).phase as string) ?? 'Active' }, ageCol];
    case 'services':
      return [
        name,
        { name: 'Type', type: 'string', cell: (o) => (spec(o).type as string) ?? 'ClusterIP' },
        { name: 'Cluster-IP', type: 'string', cell: (o) => (spec(o).clusterIP as string) ?? '<none>' },
        ageCol,
      ];
    default:
      return [
        name,
        ...(r.printerColumns ?? [])
          .filter((c) => c.jsonPath !== '.metadata.creationTimestamp')
          .map((c) => ({
            name: c.name,
            type: c.type,
            cell: (o: KubeObject) => {
              const v = dotted(o, c.jsonPath);
              return c.type === 'date' && typeof v === 'string' ? age(v) : v;
            },
          })),
        ageCol,
      ];
  }
}

export function tableFor(r: ResourceDef, items: KubeObject[], resourceVersion: string, includeObject: string | null, withColumns: boolean): unknown {
  const cols = columns(r);
  const objectOf = (o: KubeObject): unknown =>
    includeObject === 'None' ? undefined : includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    ...(withColumns ? { columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: 0 })) } : {}),
    rows: items.map((o) => ({ cells: cols.map((c) => c.cell(o)), object: objectOf(o) })),
  };
}
