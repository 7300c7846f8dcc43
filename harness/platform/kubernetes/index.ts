import { request as httpRequest } from 'undici';
import type { Clock } from '../../core/clock.js';
import type { EventSink, JournalEvent } from '../../core/journal.js';
import { HarnessError } from '../../core/errors.js';
import type { FaultInjector } from '../../faults/types.js';
import { faultObjects, namespaceLabelRefusal, newDatabasePassword, newRunId, postgresSelector, runSelector, taskApiSelector, workloadSteps, type KubernetesPlatformPlan, type LabelSelector, type WorkloadStep } from '../../kube/index.js';
import { readPoolGauges } from '../../observe/prometheus.js';
import type { ReplicaResources } from '../../observe/replica-probe.js';
import type { FaultPlan } from '../../scenario/plan.js';
import type { K6OperatorSite } from '../../load/k6-operator-driver.js';
import type { DatabaseRecovery, Deployment, KillMode, Platform, PlatformContext, ReplicaControl, ReplicaRequest } from '../types.js';
import { ChaosFault, JobFault } from './chaos-fault.js';
import { deleteLabelled } from './cleanup.js';
import { KubeDatabaseRecovery } from './database-recovery.js';
import { KubeClient, selectorOf, type KubeObject } from './client.js';
import { connect, type KubeConnection } from './config.js';
import { KubeApiError } from './errors.js';
import { PodTracker, problemOf, type PodView } from './pods.js';
import { ServiceForwarder, type ForwardTarget } from './port-forward.js';
import { byKind } from './resources.js';

/** A journal that keeps nothing (the database pods' watch). */
const SILENT: EventSink = { record: (e) => ({ ...e, atMs: 0, wallMs: 0 }) as JournalEvent };

/** How long teardown waits for the API to confirm every object of the run is gone. */
const DELETE_VERIFY_MS = 60_000;
const POLL_MS = 200;

export interface KubernetesOptions {
  /** The environment the kubeconfig is read from (tests pass their own KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** A fixed run id (tests); else a fresh one. */
  runId?: string;
}

/** The Service port's target in the pods: a number, or a container port's name. */
interface ServiceTarget {
  service: string;
  targetPort: number | string;
  selector: LabelSelector;
}

/**
 * The Kubernetes platform: deploy the reference Task API and PostgreSQL from the builders' objects
 * (harness/kube) or Game Day an existing workload; reach its Service through a resilient
 * port-forward on 127.0.0.1 (or the user's URL); inject faults as Chaos Mesh objects (or Jobs);
 * follow the pods through a watch for the journal's phases and platform RTO; and delete everything
 * labelled with the run at the end, verified. Context and namespace are journalled
 * (`kube.context`) before anything is applied.
 */
export class KubernetesPlatform implements Platform {
  readonly kind = 'kubernetes';
  readonly runId: string;
  readonly replicaControl: ReplicaControl;
  /** The drill's backup, loss and restore (Velero), when the run deploys its own PostgreSQL. */
  readonly databaseRecovery?: DatabaseRecovery;
  private databaseUrl?: string;
  private connection?: KubeConnection;
  private client?: KubeClient;
  private tracker?: PodTracker;
  private forwarder?: ServiceForwarder;
  private databaseForwarder?: ServiceForwarder;
  private databaseTracker?: PodTracker;
  private podSelector?: LabelSelector;
  private target?: ServiceTarget;
  /** The run's PostgreSQL password: GAMEDAY_POSTGRES_PASSWORD (as `gameday render` takes it), else a fresh one. */
  private readonly password: string;
  /** Whether this run applied anything (teardown then deletes by the run label). */
  private applied = false;
  private readonly faults = new Set<{ cleanup(): Promise<void> }>();
  private tornDown = false;
  /** The run's signal, given to deploy: the drill's Velero waits end with it. */
  private runSignal?: AbortSignal;

  constructor(
    readonly plan: KubernetesPlatformPlan,
    private readonly ctx: PlatformContext,
    private readonly clock: Clock,
    private readonly options: KubernetesOptions = {},
  ) {
    this.runId = options.runId ?? newRunId();
    this.password = (options.env ?? process.env)['GAMEDAY_POSTGRES_PASSWORD'] || newDatabasePassword();
    this.replicaControl = { kill: (name, mode) => this.killPod(name, mode) };
    if (plan.workload.kind === 'deploy') {
      const recovery = new KubeDatabaseRecovery({
        kc: () => this.requireConnection().kc,
        client: () => this.requireClient(),
        namespace: plan.namespace,
        runId: this.runId,
        clock,
        databaseTracker: () => this.databaseTracker,
        databaseUrl: () => this.databaseUrl,
        readyTimeoutMs: plan.readyTimeoutMs,
        signal: () => this.runSignal,
        applied: () => {
          this.applied = true;
          this.faults.add(recovery);
        },
      });
      this.databaseRecovery = recovery;
    }
  }

  private requireConnection(): KubeConnection {
    if (!this.connection) throw new Error('the Kubernetes platform is not deployed');
    return this.connection;
  }

  private requireClient(): KubeClient {
    if (!this.client) throw new Error('the Kubernetes platform is not deployed');
    return this.client;
  }

  async deploy(signal: AbortSignal): Promise<Deployment> {
    this.runSignal = signal;
    const { journal } = this.ctx;
    const t0 = this.clock.now();
    const conn = (this.connection = connect({ ...(this.plan.context ? { context: this.plan.context } : {}), namespace: this.plan.namespace, ...(this.options.env ? { env: this.options.env } : {}) }));
    const client = (this.client = new KubeClient(conn.kc, this.plan.namespace));
    journal.record({
      source: 'platform',
      type: 'kube.context',
      detail: { context: conn.context, namespace: this.plan.namespace, server: conn.server, config: conn.source, run: this.runId, cleanup: `gameday cleanup --run ${this.runId} --namespace ${this.plan.namespace}` },
    });
    // The guardrail on the namespace's labels, read before anything is applied.
    const ns = await client.getNamespace(this.plan.namespace);
    if (!ns) throw new KubeApiError(`namespace ${this.plan.namespace} does not exist in context ${conn.context} (create it, or name another in spec.platform.kubernetes.namespace)`, 404, 'NotFound', true);
    const refusal = namespaceLabelRefusal(this.plan.namespace, ns.metadata?.labels, this.plan.guard);
    if (refusal) throw new KubeApiError(refusal, undefined, 'Guardrail', true);
    signal.throwIfAborted();

    const workload = this.plan.workload;
    let seededIds: { min: number; max: number } | undefined;
    let tracker: PodTracker;
    if (workload.kind === 'deploy') {
      const steps = workloadSteps(this.plan, { runId: this.runId, databasePassword: this.password });
      this.podSelector = taskApiSelector(this.runId);
      // Watching before the Deployment exists: its pods' every phase is journalled from Pending on.
      tracker = this.tracker = new PodTracker(client, selectorOf(this.podSelector), journal, this.clock);
      await tracker.start();
      for (const step of steps) await this.applyStep(step, signal);
      seededIds = { min: 1, max: workload.seedRows };
    } else {
      this.podSelector = await this.existingSelector();
      tracker = this.tracker = new PodTracker(client, selectorOf(this.podSelector), journal, this.clock);
      await tracker.start();
    }
    const expected = workload.kind === 'deploy' ? workload.replicas : 1;
    await tracker.waitReady(expected, this.plan.readyTimeoutMs, signal, workload.kind === 'deploy' ? 'Deployment task-api' : `the pods of ${selectorOf(this.podSelector)}`);

    let serviceUrl: string;
    if (this.plan.access.kind === 'url') {
      serviceUrl = this.plan.access.url;
      journal.record({ source: 'platform', type: 'kube.traffic', detail: { via: 'url', url: serviceUrl } });
    } else {
      const target = (this.target = await this.serviceTarget(this.plan.access.service, this.plan.access.port));
      this.forwarder = new ServiceForwarder({
        kc: conn.kc,
        namespace: this.plan.namespace,
        service: target.service,
        targets: () => tracker.readyPods().map((p) => this.forwardTarget(p, target.targetPort)).filter((t): t is ForwardTarget => t !== undefined),
        isReady: (pod) => tracker.isReady(pod),
        journal,
      });
      serviceUrl = await this.forwarder.listen();
      journal.record({
        source: 'platform',
        type: 'kube.traffic',
        detail: { via: 'port-forward', service: `${target.service}:${this.plan.access.port}`, local: serviceUrl, server: conn.server, note: 'each connection forwarded through the API server to a ready pod behind the Service' },
      });
    }
    const databaseUrl = (this.databaseUrl = workload.kind === 'deploy' ? await this.forwardDatabase(signal) : undefined);
    journal.record({ source: 'platform', type: 'platform.ready', detail: { replicas: expected, totalMs: Math.round(this.clock.now() - t0), run: this.runId } });
    const probe = (replica: string, timeoutMs: number): Promise<ReplicaResources> => this.probeResources(replica, timeoutMs);
    return {
      serviceUrl,
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(workload.kind === 'deploy' ? { poolSize: workload.pool.size } : {}),
      ...(seededIds ? { seededIds } : {}),
      prometheus: { skipped: 'no Prometheus on the Kubernetes platform yet (name one with spec.observe.prometheus)' },
      resources: { probe },
      replicaHttp: { request: (replica, req) => this.replicaRequest(replica, req) },
      replicas: () => tracker.statuses(),
    };
  }

  /** Applies one step's objects in order, then waits for what ends the step. */
  private async applyStep(step: WorkloadStep, signal: AbortSignal): Promise<void> {
    const client = this.requireClient();
    for (const obj of step.objects) {
      signal.throwIfAborted();
      // Marked before the call: a create that times out may still have happened.
      this.applied = true;
      await client.create(obj as KubeObject);
      this.ctx.journal.record({ source: 'platform', type: 'kube.applied', target: `${obj.kind}/${obj.metadata.name}`, detail: { step: step.step, kind: obj.kind, name: obj.metadata.name } });
    }
    const t0 = this.clock.now();
    const { kind, name } = step.waitFor;
    if (kind === 'Deployment') return; // the pod tracker waits for the Task API's pods (with their phases)
    const type = byKind(kind);
    const deadline = this.clock.now() + this.plan.readyTimeoutMs;
    for (;;) {
      signal.throwIfAborted();
      const obj = await client.get(type, name);
      const status = (obj?.status ?? {}) as { readyReplicas?: number; succeeded?: number; failed?: number; conditions?: { type?: string; status?: string; message?: string }[] };
      const spec = (obj?.spec ?? {}) as { replicas?: number; backoffLimit?: number; selector?: { matchLabels?: LabelSelector } };
      if (kind === 'StatefulSet' && (status.readyReplicas ?? 0) >= (spec.replicas ?? 1)) break;
      if (kind === 'Job' && (status.succeeded ?? 0) >= 1) break;
      const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
      if (kind === 'Job' && failed) throw new HarnessError(`Job ${name} failed: ${failed.message ?? 'backoff limit reached'}; ${await this.podProblems(runSelector(this.runId) + ',job-name=' + name)}`);
      if (this.clock.now() >= deadline) {
        const selector = kind === 'Job' ? `job-name=${name}` : selectorOf(spec.selector?.matchLabels ?? {});
        throw new HarnessError(`${kind} ${name} not ready after ${Math.round(this.plan.readyTimeoutMs / 1000)}s: ${await this.podProblems(selector)}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    this.ctx.journal.record({ source: 'platform', type: 'kube.step-ready', target: `${kind}/${name}`, detail: { step: step.step, ms: Math.round(this.clock.now() - t0) } });
  }

  /** What is wrong with the pods of a selector, pod by pod (for readiness errors). */
  private async podProblems(selector: string): Promise<string> {
    const pods = (await this.requireClient().list(byKind('Pod'), selector)).items as PodView[];
    if (pods.length === 0) return `no pod matches ${selector}`;
    const problems = pods.map((p) => problemOf(p) ?? `pod ${p.metadata?.name ?? '?'} is ${p.status?.phase ?? 'Pending'}`);
    return problems.join('; ');
  }

  /** An existing workload's pods: the scenario's selector, or its Deployment's matchLabels. */
  private async existingSelector(): Promise<LabelSelector> {
    const w = this.plan.workload;
    if (w.kind !== 'existing') throw new Error('not an existing workload');
    if (w.selector) return w.selector;
    const name = w.deployment ?? '';
    const dep = await this.requireClient().get(byKind('Deployment'), name);
    if (!dep) throw new KubeApiError(`Deployment ${name} not found in namespace ${this.plan.namespace} (spec.platform.kubernetes.workload.deployment)`, 404, 'NotFound', true);
    const labels = (dep.spec as { selector?: { matchLabels?: LabelSelector } } | undefined)?.selector?.matchLabels;
    if (!labels || Object.keys(labels).length === 0) throw new HarnessError(`Deployment ${name} has no spec.selector.matchLabels gameday can select its pods by`);
    return labels;
  }

  /** The Service's port → its targetPort and the pods it selects. */
  private async serviceTarget(service: string, port: number): Promise<ServiceTarget> {
    const svc = await this.requireClient().get(byKind('Service'), service);
    if (!svc) throw new KubeApiError(`Service ${service} not found in namespace ${this.plan.namespace}`, 404, 'NotFound', true);
    const spec = svc.spec as { selector?: LabelSelector; ports?: { port?: number; targetPort?: number | string; name?: string }[] };
    const p = spec.ports?.find((x) => x.port === port);
    if (!p) throw new KubeApiError(`Service ${service} has no port ${port} (ports: ${(spec.ports ?? []).map((x) => x.port).join(', ') || 'none'})`, undefined, 'Invalid', true);
    return { service, targetPort: p.targetPort ?? port, selector: spec.selector ?? {} };
  }

  private forwardTarget(pod: PodView, targetPort: number | string): ForwardTarget | undefined {
    const name = pod.metadata?.name;
    if (!name) return undefined;
    if (typeof targetPort === 'number') return { pod: name, port: targetPort };
    if (/^\d+$/.test(targetPort)) return { pod: name, port: Number(targetPort) };
    for (const c of pod.spec?.containers ?? []) {
      const found = c.ports?.find((p) => p.name === targetPort);
      if (found?.containerPort) return { pod: name, port: found.containerPort };
    }
    return undefined;
  }

  /** PostgreSQL reached the same way (for the durability check and the pool gauges' sampler). */
  private async forwardDatabase(signal: AbortSignal): Promise<string | undefined> {
    const client = this.requireClient();
    const conn = this.connection;
    if (!conn) return undefined;
    const secret = await client.get(byKind('Secret'), 'postgres');
    const data = ((secret as { stringData?: Record<string, string>; data?: Record<string, string> } | undefined) ?? {});
    const read = (key: string): string | undefined => data.stringData?.[key] ?? (data.data?.[key] ? Buffer.from(data.data[key] as string, 'base64').toString('utf8') : undefined);
    const user = read('POSTGRES_USER') ?? 'postgres';
    const db = read('POSTGRES_DB') ?? 'postgres';
    // Its pods' phases stay out of the journal: they are not replicas, and platform RTO reads replica events.
    const tracker = (this.databaseTracker = new PodTracker(client, selectorOf(postgresSelector(this.runId)), SILENT, this.clock));
    await tracker.start();
    await tracker.waitReady(1, this.plan.readyTimeoutMs, signal, 'StatefulSet postgres');
    this.databaseForwarder = new ServiceForwarder({
      kc: conn.kc,
      namespace: this.plan.namespace,
      service: 'postgres',
      targets: () => tracker.readyPods().map((p) => ({ pod: p.metadata?.name ?? '', port: 5432 })),
      isReady: (pod) => tracker.isReady(pod),
      journal: this.ctx.journal,
    });
    const url = new URL(await this.databaseForwarder.listen());
    return `postgres://${encodeURIComponent(user)}:${this.password}@127.0.0.1:${url.port}/${encodeURIComponent(db)}`;
  }

  /** One request to one pod, through a port-forward of its own (the leak fault's endpoint, /metrics). */
  private async replicaRequest(replica: string, req: ReplicaRequest): Promise<{ status: number; body: string }> {
    const conn = this.connection;
    const tracker = this.tracker;
    const target = this.target;
    if (!conn || !tracker) throw new Error('the Kubernetes platform is not deployed');
    const pod = tracker.readyPods().find((p) => p.metadata?.name === replica) ?? tracker.readyPods()[0];
    const port = pod ? this.forwardTarget(pod, target?.targetPort ?? 8000) : undefined;
    if (!pod || !port || pod.metadata?.name !== replica) throw new HarnessError(`pod ${replica} is not ready: no request can reach it`);
    const one = new ServiceForwarder({ kc: conn.kc, namespace: this.plan.namespace, service: replica, targets: () => [port], isReady: (p) => tracker.isReady(p), journal: this.ctx.journal, attempts: 1 });
    try {
      const base = await one.listen();
      const res = await httpRequest(`${base}${req.path}`, {
        method: req.method,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body), headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      return { status: res.statusCode, body: await res.body.text() };
    } finally {
      await one.close();
    }
  }

  /**
   * A pod's resources: memory from the metrics API when the cluster serves it (the working set, as
   * `kubectl top`), else the pod's own /metrics (process_resident_memory_bytes); open fds and the
   * pool gauges always from /metrics, through a port-forward. A pod not ready yet is not probed.
   */
  private async probeResources(replica: string, timeoutMs: number): Promise<ReplicaResources> {
    const out: ReplicaResources = { name: replica, pid: null, rssBytes: null, openFds: null, pool: null, errors: {} };
    if (!this.tracker?.isReady(replica)) return out;
    const fromMetricsApi = this.metricsApi !== false ? this.metricsApiMemory(replica) : Promise.resolve(undefined);
    try {
      const res = await this.replicaRequest(replica, { method: 'GET', path: '/metrics', timeoutMs });
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
      const value = (name: string): number | null => {
        const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(res.body);
        return m ? Number(m[1]) : null;
      };
      out.rssBytes = value('process_resident_memory_bytes');
      out.openFds = value('process_open_fds');
      out.pool = readPoolGauges(res.body);
    } catch (err) {
      out.errors.pool = (err as Error).message;
    }
    const memory = await fromMetricsApi;
    if (memory !== undefined) out.rssBytes = memory;
    return out;
  }

  /** undefined: not asked yet; false: the cluster has no metrics API (asked once). */
  private metricsApi: boolean | undefined;

  private async metricsApiMemory(pod: string): Promise<number | undefined> {
    try {
      const m = await this.requireClient().get(byKind('PodMetrics'), pod);
      this.metricsApi = true;
      const containers = (m as { containers?: { usage?: { memory?: string } }[] } | undefined)?.containers;
      return containers ? containers.reduce((sum, c) => sum + quantityBytes(c.usage?.memory ?? '0'), 0) : undefined;
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound === 'type' && this.metricsApi !== false) {
        this.metricsApi = false;
        this.ctx.journal.record({ source: 'platform', type: 'kube.metrics-api-absent', detail: { using: "the pods' /metrics" } });
      }
      return undefined;
    }
  }

  /** The client, plan and run the k6 operator driver applies its TestRun with; its objects are swept at teardown. */
  k6OperatorSite(): K6OperatorSite {
    return {
      client: this.requireClient(),
      kube: this.plan,
      runId: this.runId,
      applied: () => {
        this.applied = true;
      },
    };
  }

  /** pod-kill through the API (when no Chaos Mesh injector is used): delete with grace 0, or the given grace. */
  private async killPod(name: string, mode: KillMode): Promise<{ killed: boolean; detail: Record<string, string | number | boolean | null> }> {
    const grace = mode.how === 'kill' ? 0 : Math.ceil(mode.graceMs / 1000);
    const killed = await this.requireClient().delete(byKind('Pod'), name, { gracePeriodSeconds: grace });
    return { killed, detail: { by: 'delete', gracePeriodSeconds: grace } };
  }

  injectorFor(plan: FaultPlan): FaultInjector | undefined {
    const index = this.faultIndex(plan);
    const objects = (): KubeObject[] => faultObjects(plan, index, { platform: this.plan, runId: this.runId, podSelector: this.podSelector ?? {} }) as KubeObject[];
    const deps = {
      client: () => this.requireClient(),
      tracker: () => this.tracker,
      journal: this.ctx.journal,
      clock: this.clock,
      register: (f: { cleanup(): Promise<void> }) => {
        this.applied = true;
        this.faults.add(f);
      },
    };
    if (plan.kind === 'pod-kill' || plan.kind === 'network-delay') return new ChaosFault(plan, objects, deps);
    if (plan.kind === 'pool-exhaustion' && plan.mode !== 'leak') return new JobFault(plan, objects, deps);
    return undefined;
  }

  /** The fault's index in the scenario (createInjector is called for each fault in order): its object's name. */
  private faultIndex(plan: FaultPlan): number {
    const known = this.faultIndexes.get(plan.name);
    if (known !== undefined) return known;
    this.faultIndexes.set(plan.name, this.faultIndexes.size);
    return this.faultIndexes.size - 1;
  }
  private readonly faultIndexes = new Map<string, number>();

  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await this.forwarder?.close();
    await this.databaseForwarder?.close();
    for (const f of this.faults) await f.cleanup().catch(() => undefined);
    this.tracker?.stop();
    this.databaseTracker?.stop();
    if (!this.applied || !this.client) return;
    const result = await deleteLabelled(this.client, runSelector(this.runId), DELETE_VERIFY_MS, this.clock).catch((err: unknown) => ({ deleted: [], leftovers: [`cleanup failed: ${(err as Error).message}`], absentKinds: [] }));
    this.ctx.journal.record({ source: 'platform', type: 'kube.deleted', detail: { objects: result.deleted.length, leftovers: result.leftovers.length, run: this.runId } });
    // Named in the journal (and printed by the CLI), never thrown: teardown runs in the run's
    // finally, and the run's own outcome and report must survive it.
    if (result.leftovers.length > 0) {
      this.ctx.journal.record({ source: 'platform', type: 'kube.left-behind', detail: { objects: result.leftovers.join('; '), cleanup: `gameday cleanup --run ${this.runId} --namespace ${this.plan.namespace}` } });
    }
  }
}

/** A Kubernetes memory quantity (123Ki, 45Mi, 1G, plain bytes) in bytes. */
export function quantityBytes(q: string): number {
  const m = /^([0-9.]+)([KMGTE]i?|k|m)?$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const factors: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Ei: 1024 ** 6, m: 1e-3 };
  return Math.round(n * (factors[unit] ?? 1));
}

