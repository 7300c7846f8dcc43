// The resources the fake serves: built-in kinds gameday touches plus the Chaos Mesh CRDs read from
// ../shared/chaos-mesh-crds/ (the real schemas, used for validation and discovery).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served under the object path. */
  subresources: string[];
  /** Discovery categories (`kubectl get all`). */
  categories?: string[];
  /** A custom resource (from a CRD). */
  custom?: boolean;
  /** openAPIV3Schema of a custom resource (validated strictly). */
  schema?: Record<string, unknown>;
  /** Printer columns of a CRD, for kubectl's Table output. */
  printerColumns?: { name: string; type: string; jsonPath: string }[];
  /** The CRD object itself (served under apiextensions.k8s.io). */
  crd?: Record<string, unknown>;
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

const VERBS_ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export function verbsOf(r: ResourceDef): string[] {
  if (r.plural === 'selfsubjectaccessreviews') return ['create'];
  if (r.group === 'metrics.k8s.io') return ['get', 'list'];
  return VERBS_ALL;
}

function core(plural: string, kind: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = []): ResourceDef {
  return { group: '', version: 'v1', plural, singular: kind.toLowerCase(), kind, namespaced, shortNames, subresources };
}
function grouped(group: string, version: string, plural: string, kind: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = []): ResourceDef {
  return { group, version, plural, singular: kind.toLowerCase(), kind, namespaced, shortNames, subresources };
}

const ALL = ['pods', 'services', 'deployments', 'replicasets', 'statefulsets', 'jobs'];

export const BUILTIN_RESOURCES: ResourceDef[] = [
  core('namespaces', 'Namespace', false, ['ns'], ['status']),
  core('nodes', 'Node', false, ['no'], ['status']),
  core('pods', 'Pod', true, ['po'], ['status', 'portforward', 'log', 'eviction']),
  core('services', 'Service', true, ['svc'], ['status']),
  core('endpoints', 'Endpoints', true, ['ep']),
  core('configmaps', 'ConfigMap', true, ['cm']),
  core('secrets', 'Secret', true),
  core('serviceaccounts', 'ServiceAccount', true, ['sa']),
  core('events', 'Event', true, ['ev']),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], ['status']),
  grouped('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status', 'scale']),
  grouped('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['status', 'scale']),
  grouped('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['status', 'scale']),
  grouped('batch', 'v1', 'jobs', 'Job', true, [], ['status']),
  grouped('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ['crd', 'crds'], ['status']),
  grouped('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false),
  // metrics-server's API (served only when the fake is started with metricsApi: true).
  grouped('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', true),
  grouped('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', false),
].map((r) => (ALL.includes(r.plural) ? { ...r, categories: ['all'] } : r));

/** ../shared/chaos-mesh-crds/ seen from the repository root. */
export const DEFAULT_CRD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/chaos-mesh-crds');

interface CrdDoc {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      schema: { openAPIV3Schema: Record<string, unknown> };
      subresources?: Record<string, unknown>;
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
    }[];
  };
}

const cache = new Map<string, ResourceDef[]>();

/**
 * Every CRD in `dir` as a ResourceDef. The names come from the head of each file; the schema (the
 * workflow and schedule CRDs are 10k+ lines) is parsed the first time it is needed, once per process.
 */
export function loadCrds(dir: string = DEFAULT_CRD_DIR): ResourceDef[] {
  const cached = cache.get(dir);
  if (cached !== undefined) return cached;
  const out: ResourceDef[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    const cut = text.indexOf('\n  versions:\n');
    const head = parse(cut < 0 ? text : text.slice(0, cut)) as { spec: Omit<CrdDoc['spec'], 'versions'> };
    const tail = cut < 0 ? '' : text.slice(cut);
    const version = /^(?: {2}- | {4})name: (\S+)$/m.exec(tail)?.[1];
    if (version === undefined) continue;
    let full: CrdDoc | undefined;
    const doc = (): CrdDoc => (full ??= parse(text) as CrdDoc);
    const served = (): CrdDoc['spec']['versions'][number] => doc().spec.versions.find((v) => v.name === version)!;
    // Subresources matter for routing before any schema is needed: read them from the text.
    const subresources = /^ {4}subresources:\s*\n {6}status: \{\}/m.test(tail) ? ['status'] : [];
    out.push({
      group: head.spec.group,
      version,
      plural: head.spec.names.plural,
      singular: head.spec.names.singular,
      kind: head.spec.names.kind,
      namespaced: head.spec.scope === 'Namespaced',
      shortNames: head.spec.names.shortNames ?? [],
      subresources,
      custom: true,
      get schema() {
        return served().schema.openAPIV3Schema;
      },
      get printerColumns() {
        return served().additionalPrinterColumns ?? [];
      },
      // The CRD object served under apiextensions.k8s.io: names and versions, without the schema.
      crd: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${head.spec.names.plural}.${head.spec.group}` },
        spec: { group: head.spec.group, names: head.spec.names, scope: head.spec.scope, versions: [{ name: version, served: true, storage: true }] },
        status: {
          acceptedNames: head.spec.names,
          storedVersions: [version],
          conditions: [
            { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
            { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
          ],
        },
      },
    });
  }
  cache.set(dir, out);
  return out;
}
