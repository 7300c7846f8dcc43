import { parseDurationMs } from '../core/duration.js';
import { isHostAllowed } from '../core/loopback.js';
import type { PlatformShape } from '../scenario/fault-plans.js';
import type { FaultPlan } from '../scenario/plan.js';
import { defaultLocalPlatform, type ScenarioDocument } from '../scenario/schema.js';
import { DEFAULT_ALLOW_NAMESPACES, faultProblems, namespaceProblems } from './guardrails.js';
import type { KubeAccess, KubeDeployWorkload, KubeExistingWorkload, KubernetesPlatformPlan } from './plan.js';
import { DNS_LABEL, IMAGE_REF, NAMESPACE_PATTERN } from './schema.js';

/** The Task API image a deploy uses unless the scenario or --image names another (fixtures/task-api/Dockerfile). */
export const DEFAULT_TASK_API_IMAGE = 'gameday/task-api:0.1.0';
export const DEFAULT_POSTGRES_IMAGE = 'postgres:17';
const TASK_API_ACCESS: KubeAccess = { kind: 'port-forward', service: 'task-api', port: 8000 };

/** The command line's say on the platform: --platform, --namespace, --context, --image and the guardrail opt-ins. */
export interface KubernetesOverride {
  platform?: 'local' | 'kubernetes';
  namespace?: string;
  context?: string;
  image?: string;
  allowNamespaces?: readonly string[];
  allowProduction?: boolean;
  allowModeAll?: boolean;
}

type Report = (path: string, expected: string, found: string) => void;
const ms = (text: string): number => parseDurationMs(text) as number;

/**
 * Whether this scenario runs on a cluster: with --platform kubernetes, or when spec.platform names
 * kubernetes alone. A file with both local and kubernetes runs locally unless --platform kubernetes
 * (so one file serves both, and the local Game Day stays the default).
 */
export function runsOnKubernetes(doc: ScenarioDocument, o: KubernetesOverride | undefined): boolean {
  if (o?.platform !== undefined) return o.platform === 'kubernetes';
  return doc.spec.platform?.kubernetes !== undefined && doc.spec.platform.local === undefined;
}

/**
 * spec.platform.kubernetes (or a local scenario with --platform kubernetes) as a plan, with the
 * guardrails on its namespace; undefined when the scenario runs elsewhere (then the Kubernetes
 * flags are refused). Faults are judged afterwards by kubernetesFaults.
 */
export function kubernetesPlan(doc: ScenarioDocument, o: KubernetesOverride | undefined, allowHosts: readonly string[], problem: Report): KubernetesPlatformPlan | undefined {
  if (!runsOnKubernetes(doc, o)) {
    const given = (['namespace', 'context', 'image'] as const).filter((k) => o?.[k] !== undefined);
    for (const k of given) problem(`--${k}`, 'only with a Kubernetes platform (spec.platform.kubernetes or --platform kubernetes)', `"${o?.[k]}"`);
    return undefined;
  }
  const k = doc.spec.platform?.kubernetes;
  const base = 'spec.platform.kubernetes';
  if (doc.spec.target) problem('spec.target', 'a scenario with a platform to run on a cluster (spec.target only loads an existing URL)', 'spec.target with --platform kubernetes');
  const local = doc.spec.platform?.local;
  if (local?.app) problem('spec.platform.local.app', 'the reference Task API on a cluster (an app runs on the local platform only; name an existing workload in spec.platform.kubernetes.workload)', 'an app');

  const nsPath = o?.namespace !== undefined ? '--namespace' : `${base}.namespace`;
  const namespace = o?.namespace ?? k?.namespace;
  if (namespace === undefined) problem(`${base}.namespace`, 'the namespace to run in (spec.platform.kubernetes.namespace or --namespace)', 'nothing');
  else if (!DNS_LABEL.test(namespace) || namespace.length > 63) problem(nsPath, 'a namespace name (a DNS-1123 label: lowercase letters, digits, -)', `"${namespace}"`);
  if (o?.context !== undefined && !/^\S{1,253}$/.test(o.context)) problem('--context', 'a context name without spaces', `"${o.context}"`);
  if (o?.image !== undefined && !IMAGE_REF.test(o.image)) problem('--image', 'an image reference such as gameday/task-api:0.1.0', `"${o.image}"`);
  for (const p of o?.allowNamespaces ?? []) if (!NAMESPACE_PATTERN.test(p)) problem('--allow-namespace', 'a namespace name, * standing for any characters', `"${p}"`);

  const guard = {
    allowNamespaces: [...(k?.allowNamespaces ?? DEFAULT_ALLOW_NAMESPACES), ...(o?.allowNamespaces ?? [])],
    allowProduction: o?.allowProduction ?? false,
    allowModeAll: o?.allowModeAll ?? false,
  };
  if (namespace !== undefined) for (const p of namespaceProblems(namespace, guard, nsPath)) problem(p.path, p.expected, p.found);

  if (k?.deploy && k.workload) problem(`${base}.workload`, 'either deploy (the reference Task API) or workload (an existing one), not both', 'both');
  let workload: KubeDeployWorkload | KubeExistingWorkload;
  let access: KubeAccess | undefined;
  if (k?.workload) {
    const w = k.workload;
    if ((w.selector === undefined) === (w.deployment === undefined)) {
      problem(`${base}.workload`, 'the pods to Game Day: a selector (matchLabels) or a deployment name, one of them', w.selector ? 'both' : 'neither');
    }
    if (o?.image !== undefined) problem('--image', 'an image only when gameday deploys the Task API (not with spec.platform.kubernetes.workload)', `"${o.image}"`);
    workload = {
      kind: 'existing',
      ...(w.selector ? { selector: w.selector } : {}),
      ...(w.deployment ? { deployment: w.deployment } : {}),
      databaseSelector: w.databaseSelector ?? { app: 'postgres' },
    };
    if (!k.service && !k.url) problem(base, 'how clients reach the workload: service (name and port, through a port-forward) or url', 'neither');
  } else {
    const d = k?.deploy;
    const l = local ?? defaultLocalPlatform();
    workload = {
      kind: 'deploy',
      image: o?.image ?? d?.image ?? DEFAULT_TASK_API_IMAGE,
      postgresImage: d?.postgresImage ?? DEFAULT_POSTGRES_IMAGE,
      replicas: d?.replicas ?? l.replicas,
      pool: {
        size: d?.pool?.size ?? l.pool.size,
        acquireTimeoutMs: ms(d?.pool?.acquireTimeout ?? l.pool.acquireTimeout),
        statementTimeoutMs: ms(d?.pool?.statementTimeout ?? l.pool.statementTimeout),
      },
      seedRows: d?.seedRows ?? Math.max(1, l.seedRows),
      terminationGracePeriodMs: Math.ceil(ms(d?.terminationGracePeriod ?? l.terminationGracePeriod) / 1000) * 1000,
      faultInjection: [],
      labels: { environment: 'staging', ...d?.labels },
    };
    access = TASK_API_ACCESS;
  }
  if (k?.service && k.url) problem(`${base}.url`, 'either service (a port-forward) or url, not both', 'both');
  if (k?.service) access = { kind: 'port-forward', service: k.service.name, port: k.service.port };
  if (k?.url) {
    const url = new URL(k.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problem(`${base}.url`, 'an http:// or https:// URL', url.protocol);
    else if (!isHostAllowed(url.hostname, allowHosts)) problem(`${base}.url`, 'a loopback host, or a host listed in spec.target.allowHosts / --allow-host', url.hostname);
    access = { kind: 'url', url: k.url.replace(/\/+$/, '') };
  }
  return {
    kind: 'kubernetes',
    namespace: namespace ?? 'default',
    ...((o?.context ?? k?.context) !== undefined ? { context: o?.context ?? k?.context } : {}),
    workload,
    access: access ?? TASK_API_ACCESS,
    readyTimeoutMs: ms(k?.readyTimeout ?? '5m'),
    guard,
  };
}

/** What fault planning checks against: a deploy's replica count (an existing workload's is known only on the cluster). */
export function kubernetesFaultShape(k: KubernetesPlatformPlan): PlatformShape {
  return { kind: 'local', replicas: k.workload.kind === 'deploy' ? k.workload.replicas : Number.POSITIVE_INFINITY };
}

/**
 * The faults on a cluster: the guardrails on the pods they select, the faults an existing workload
 * cannot take, and the Task API fault endpoints a deploy enables.
 */
export function kubernetesFaults(k: KubernetesPlatformPlan, faults: readonly FaultPlan[], problem: Report): KubernetesPlatformPlan {
  for (const p of faultProblems(faults, k.guard)) problem(p.path, p.expected, p.found);
  faults.forEach((f, i) => {
    if (f.kind !== 'pool-exhaustion') return;
    if (k.workload.kind === 'existing') {
      problem(`spec.faults[${i}].kind`, 'a fault an existing workload can take (pool-exhaustion acts on the PostgreSQL and Task API gameday deploys: use spec.platform.kubernetes.deploy)', '"pool-exhaustion"');
    } else if (f.mode === 'leak' && k.access.kind !== 'port-forward') {
      problem(`spec.faults[${i}].mode`, "a leak only through a port-forward (the Task API's fault endpoint answers loopback clients only)", `"leak" with spec.platform.kubernetes.url`);
    }
  });
  if (k.workload.kind !== 'deploy') return k;
  const leak = faults.some((f) => f.kind === 'pool-exhaustion' && f.mode === 'leak');
  return { ...k, workload: { ...k.workload, faultInjection: leak ? ['leak'] : [] } };
}
