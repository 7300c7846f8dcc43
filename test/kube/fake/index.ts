// A fake Kubernetes API server for tests: real HTTPS on 127.0.0.1, the object store, the simulated
// kubelet/controllers and Chaos Mesh, and a kubeconfig (file and @kubernetes/client-node KubeConfig)
// pointing at it. README.md in this directory describes the API.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { makeTestPki, type TestPki } from '../../helpers/tls-certs.js';
import { stringify } from 'yaml';
import { admitChaos, ChaosMesh } from './chaos.js';
import { K6Operator, TESTRUN_RESOURCE, type K6OperatorOptions } from './k6-operator.js';
import { BUILTIN_RESOURCES, DEFAULT_CRD_DIR, loadCrds, type ResourceDef } from './resources.js';
import { FakeApiServer, type LoggedRequest, type RequestMatch } from './server.js';
import { Store, type KubeObject } from './store.js';
import type { StatusBody } from './status.js';
import type { FieldValidation } from './validation.js';
import { Cluster, type BackingFactory, type PodBehaviour, type PodMatch, type PodTiming } from './workloads.js';

export type { KubeObject } from './store.js';
export type { BackingFactory, PodBacking, PodBehaviour, PodMatch, PodTiming } from './workloads.js';
export type { ChaosAction } from './chaos.js';
export type { K6OperatorOptions, K6RunnerStart } from './k6-operator.js';
export type { LoggedRequest, RequestMatch } from './server.js';
export { CHAOS_FINALIZER } from './chaos.js';

export interface FakeKubeOptions {
  /** Namespaces that exist from the start (default: default, kube-system, kube-public). */
  namespaces?: (string | { name: string; labels?: Record<string, string> })[];
  /** Pod lifecycle delays (default: a few ms each). */
  timing?: Partial<PodTiming>;
  /** Called when a pod's containers start; its process serves the pod's ports on loopback. */
  backing?: BackingFactory;
  /** Chaos Mesh installed (its CRDs served and its controller running); default true. */
  chaosMesh?: boolean;
  /** Where the CRD YAML files are (default ../shared/chaos-mesh-crds). */
  crdDir?: string;
  /** fieldValidation when the request does not say (a real server defaults to Warn; default Strict here). */
  defaultFieldValidation?: FieldValidation;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms; a real server ~1 min). */
  bookmarkIntervalMs?: number;
  /** Events kept for watches from a resourceVersion (older: 410 Expired). */
  historyLimit?: number;
  /** The user name in 403 messages (default system:serviceaccount:gameday:gameday). */
  user?: string;
  /** Context and cluster names in the kubeconfig (default fake). */
  context?: string;
  /** The namespace of the kubeconfig context. */
  contextNamespace?: string;
  /** Serve metrics.k8s.io (PodMetrics from the backing processes or `cluster.setUsage`); default false (absent, 404). */
  metricsApi?: boolean;
  /** HTTPS with a throwaway CA in the kubeconfig (default true); false: plain HTTP, insecure-skip-tls-verify. */
  tls?: boolean;
  /** Serve the TestRun kind (k6.io/v1alpha1) and run a simulated k6 operator (k6-operator.ts); default: absent (404). */
  k6Operator?: K6OperatorOptions | true;
}

export interface FakeKube {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A kubeconfig file (current-context set, bearer token). */
  kubeconfigPath: string;
  /** The same, loaded. */
  kubeConfig: KubeConfig;
  /** The bearer token the server accepts. */
  token: string;
  store: Store;
  server: FakeApiServer;
  cluster: Cluster;
  chaos: ChaosMesh;
  /** The simulated k6 operator (started with `k6Operator`). */
  k6?: K6Operator;
  /** Every request received, in order. */
  requests: LoggedRequest[];
  /** The writes (create/update/patch/delete) received, in order. */
  writes(): LoggedRequest[];
  /** Reads an object from the store (undefined when absent). */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Lists objects of a resource (`pods`, `deployments`, `podchaos`...) from the store. */
  list(resource: string, namespace?: string): KubeObject[];
  /** Creates an object directly in the store (test setup), as a POST would, without validation. */
  create(resource: string, obj: Omit<KubeObject, 'apiVersion' | 'kind'> & Partial<KubeObject>): KubeObject;
  /** Sets pod lifecycle delays for pods created from now on. */
  setTiming(t: Partial<PodTiming>): void;
  /** Matching pods created from now on misbehave (unschedulable, image pull, crash loop, readiness). */
  setPodBehaviour(match: PodMatch, b: PodBehaviour): () => void;
  faults: {
    forbid(match: RequestMatch): () => void;
    failNext(match: RequestMatch, status: Partial<StatusBody> & { code: number }, times?: number): () => void;
    delay(match: RequestMatch, ms: number, times?: number): () => void;
    dropWatches(filter?: { resource?: string; namespace?: string }, how?: 'end' | 'destroy'): number;
    /** Break every open port-forward stream as a dropped connection does; the pods stay ready. */
    breakPortForwards(): number;
    /** Forget the watch history: watches from an older resourceVersion get 410 Expired. */
    compact(): void;
    /** Chaos Mesh not installed: its group vanishes from discovery and its paths answer 404. */
    uninstallChaosMesh(): void;
  };
  /**
   * Runs Debian's kubectl against the fake (KUBECONFIG set, discovery cache in the fake's temp dir so
   * nothing is left in ~/.kube). Never rejects: the exit code is in `code`.
   */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The temp directory of this fake (kubeconfig, kubectl cache); removed by close(). */
  dir: string;
  /**
   * A pod's view of the fake: KUBERNETES_SERVICE_HOST/PORT and a directory prefix holding
   * var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}, for
   * `kc.loadFromCluster(pathPrefix)` (the service account's namespace is contextNamespace or default).
   */
  inCluster: { env: { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string }; pathPrefix: string };
  close(): Promise<void>;
}

/** Temp directories of fakes not closed yet: removed when the process exits whatever happened. */
const openDirs = new Set<string>();
let exitHook = false;
function removeAtExit(dir: string): void {
  openDirs.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of openDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** One throwaway PKI per process while fakes are running (openssl takes most of a second). */
let sharedPki: { pki: TestPki; users: number } | undefined;
function acquirePki(): TestPki {
  if (sharedPki === undefined) {
    sharedPki = { pki: makeTestPki(), users: 0 };
    removeAtExit(sharedPki.pki.dir);
  }
  sharedPki.users++;
  return sharedPki.pki;
}
function releasePki(): void {
  if (sharedPki === undefined || --sharedPki.users > 0) return;
  sharedPki.pki.remove();
  openDirs.delete(sharedPki.pki.dir);
  sharedPki = undefined;
}

function resourceByName(all: ResourceDef[], name: string): ResourceDef {
  const r = all.find((x) => x.plural === name || x.kind === name || x.singular === name);
  if (r === undefined) throw new Error(`the fake serves no resource ${name}`);
  return r;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const crds = loadCrds(options.crdDir ?? DEFAULT_CRD_DIR);
  const resources = [...BUILTIN_RESOURCES, ...crds, ...(options.k6Operator ? [TESTRUN_RESOURCE] : [])];
  const store = new Store(resources, options.historyLimit ?? 10_000);
  const token = randomBytes(16).toString('hex');
  const pki = options.tls === false ? undefined : acquirePki();
  const user = options.user ?? 'system:serviceaccount:gameday:gameday';
  const server = new FakeApiServer(store, {
    token,
    user,
    defaultFieldValidation: options.defaultFieldValidation ?? 'Strict',
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    ...(pki === undefined ? {} : { tls: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) } }),
  });
  const cluster = new Cluster(store);
  if (options.timing !== undefined) Object.assign(cluster.timing, options.timing);
  cluster.backing = options.backing;
  const k6 = options.k6Operator ? new K6Operator(store, options.k6Operator === true ? {} : options.k6Operator) : undefined;
  if (k6) {
    // Runner pods are the operator's processes; every other pod is the test's.
    const own = options.backing;
    cluster.backing = async (pod) => (k6.owns(pod) ? k6.backing(pod) : own?.(pod));
  }
  server.kubelet = cluster;
  const chaos = new ChaosMesh(store);
  server.admit = (r, obj) => {
    if (r.group === 'chaos-mesh.org') admitChaos(r, obj);
  };
  const nsRes = store.resource('', 'namespaces');
  const crdRes = store.resource('apiextensions.k8s.io', 'customresourcedefinitions');
  for (const c of crds) store.create(crdRes, structuredClone(c.crd) as unknown as KubeObject);
  if (k6) store.create(crdRes, structuredClone(TESTRUN_RESOURCE.crd) as unknown as KubeObject);
  if (options.metricsApi !== true) server.disabledGroups.add('metrics.k8s.io');
  if (options.chaosMesh === false) {
    server.disabledGroups.add('chaos-mesh.org');
    chaos.running = false;
    for (const c of crds) store.delete(crdRes, undefined, `${c.plural}.${c.group}`);
  }
  for (const ns of options.namespaces ?? ['default', 'kube-system', 'kube-public']) {
    const spec = typeof ns === 'string' ? { name: ns } : ns;
    store.create(nsRes, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: spec.name, labels: { ...(spec.labels ?? {}), 'kubernetes.io/metadata.name': spec.name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  const url = await server.listen();
  const dir = mkdtempSync(join(tmpdir(), 'gameday-fake-kube-'));
  removeAtExit(dir);
  const kubeconfigPath = join(dir, 'kubeconfig');
  const name = options.context ?? 'fake';
  const context: Record<string, string> = { cluster: name, user: `${name}-user` };
  if (options.contextNamespace !== undefined) context.namespace = options.contextNamespace;
  writeFileSync(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name,
          cluster:
            pki === undefined
              ? { server: url, 'insecure-skip-tls-verify': true }
              : { server: url, 'certificate-authority-data': Buffer.from(pki.read(pki.caCert)).toString('base64') },
        },
      ],
      users: [{ name: `${name}-user`, user: { token } }],
      contexts: [{ name, context }],
      'current-context': name,
      preferences: {},
    }),
    { mode: 0o600 },
  );
  const saDir = join(dir, 'in-cluster', 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, 'token'), token, { mode: 0o600 });
  writeFileSync(join(saDir, 'namespace'), options.contextNamespace ?? 'default');
  if (pki !== undefined) writeFileSync(join(saDir, 'ca.crt'), pki.read(pki.caCert));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let closed = false;
  return {
    url,
    kubeconfigPath,
    kubeConfig,
    token,
    store,
    server,
    cluster,
    chaos,
    ...(k6 ? { k6 } : {}),
    requests: server.requests,
    dir,
    inCluster: { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(url).port }, pathPrefix: join(dir, 'in-cluster') },
    kubectl: (args, opts = {}) =>
      new Promise((resolve) => {
        const child = execFile(
          'kubectl',
          [`--cache-dir=${join(dir, 'kubectl-cache')}`, ...args],
          { env: { ...process.env, KUBECONFIG: kubeconfigPath }, timeout: opts.timeoutMs ?? 20_000, killSignal: 'SIGKILL' },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
            resolve({ code, stdout, stderr });
          },
        );
        if (opts.input !== undefined) child.stdin?.end(opts.input);
        else child.stdin?.end();
      }),
    writes: () => server.requests.filter((r) => r.info !== undefined && ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(r.info.verb)),
    get: (resource, namespace, n) => store.get(resourceByName(resources, resource), namespace, n),
    list: (resource, namespace) => store.list(resourceByName(resources, resource), namespace),
    create: (resource, obj) => store.create(resourceByName(resources, resource), obj as KubeObject),
    setTiming: (t) => Object.assign(cluster.timing, t),
    setPodBehaviour: (m, b) => cluster.setBehaviour(m, b),
    faults: {
      forbid: (m) => server.forbid(m),
      failNext: (m, s, times) => server.failNext(m, s, times),
      delay: (m, ms, times) => server.delay(m, ms, times),
      dropWatches: (f, how) => server.dropWatches(f, how),
      breakPortForwards: () => server.breakPortForwards(),
      compact: () => store.compact(),
      uninstallChaosMesh: () => {
        server.disabledGroups.add('chaos-mesh.org');
        chaos.running = false;
        for (const c of crds) {
          try {
            store.delete(crdRes, undefined, `${c.plural}.${c.group}`);
          } catch {
            // already gone
          }
        }
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      chaos.close();
      k6?.close();
      await server.close();
      await cluster.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
      openDirs.delete(dir);
      if (pki !== undefined) releasePki();
    },
  };
}
