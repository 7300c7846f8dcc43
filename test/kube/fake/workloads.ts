// The simulated kubelet and workload controllers: pods go Pending → (scheduled) ContainerCreating →
// Running → Ready with delays the test sets, optionally backed by a real process on loopback; the
// ReplicaSet/Deployment, StatefulSet and Job controllers keep their pods the way kube-controller-manager
// does (replacements for deleted pods, ownerReferences, status counters and conditions).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { matchesLabelSelectorObject } from './selectors.js';
import { now, randomSuffix, type DeleteOptions, type KubeObject, type Store, type StoreEvent } from './store.js';
import type { ResourceDef } from './resources.js';

export interface PodTiming {
  /** Pending (not yet scheduled) → scheduled, containers ContainerCreating. */
  scheduleMs: number;
  /** ContainerCreating → Running (at least this long; also until the backing process is up). */
  createMs: number;
  /** Running → Ready (the readiness probe's first success). */
  readyMs: number;
  /** deletionTimestamp set → pod gone, for a graceful deletion (grace period > 0). */
  terminateMs: number;
}

export const DEFAULT_TIMING: PodTiming = { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 };

/** A process standing in for a pod's containers. */
export interface PodBacking {
  /** containerPort → loopback port it is served on; a single number serves every container port. */
  ports: Record<number, number> | number;
  /** Stops the process (called when the pod is deleted or the fake closes). */
  stop(): Promise<void>;
  /** Resolves with the exit code if the process ends by itself (a Job's pod, a crash). */
  exited?: Promise<number>;
  /** The container's output, served as the pod's `log` subresource. */
  log?(): string;
  /** The process id, for the metrics API's CPU/memory (read from /proc) when `usage` is absent. */
  pid?: number;
  /** CPU and memory for the metrics API. */
  usage?(): { cpuMillicores: number; memoryBytes: number };
}

export type BackingFactory = (pod: KubeObject) => Promise<PodBacking | undefined>;

/** How matching pods misbehave (the readiness errors the platform must name). */
export interface PodBehaviour {
  timing?: Partial<PodTiming>;
  /** Stays Pending: PodScheduled False, reason Unschedulable. */
  unschedulable?: boolean;
  /** Containers wait with ErrImagePull then ImagePullBackOff. */
  imagePullBackOff?: boolean;
  /** Containers start, exit 1 and wait in CrashLoopBackOff, restartCount growing. */
  crashLoopBackOff?: boolean;
  /** Running but the readiness probe fails: never Ready. */
  readinessFailing?: boolean;
  /** Without a backing process: the container exits with this code after `runMs` (Jobs). */
  exitCode?: number;
  runMs?: number;
  /** false: do not call the backing factory for these pods. */
  backed?: boolean;
}

export type PodMatch = { namespace?: string; labels?: Record<string, string>; name?: string } | ((pod: KubeObject) => boolean);

interface Runtime {
  uid: string;
  namespace: string;
  name: string;
  timers: Set<NodeJS.Timeout>;
  backing?: PodBacking;
  stopped: boolean;
  behaviour: PodBehaviour;
  timing: PodTiming;
  restarts: number;
}

type Json = Record<string, unknown>;

function podMatches(m: PodMatch, pod: KubeObject): boolean {
  if (typeof m === 'function') return m(pod);
  if (m.namespace !== undefined && pod.metadata.namespace !== m.namespace) return false;
  if (m.name !== undefined && pod.metadata.name !== m.name) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (pod.metadata.labels?.[k] !== v) return false;
  return true;
}

function containersOf(pod: KubeObject): { name: string; image?: string; ports?: { containerPort: number }[] }[] {
  return ((pod.spec?.containers ?? []) as { name: string; image?: string }[]) ?? [];
}

function condition(type: string, status: boolean, reason?: string, message?: string): Json {
  const c: Json = { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now() };
  if (reason !== undefined) c.reason = reason;
  if (message !== undefined) c.message = message;
  return c;
}

/** Keeps lastTransitionTime of conditions whose status did not change. */
function keepTransitions(prev: Json[] | undefined, next: Json[]): Json[] {
  return next.map((c) => {
    const p = (prev ?? []).find((x) => x.type === c.type);
    return p !== undefined && p.status === c.status ? { ...c, lastTransitionTime: p.lastTransitionTime } : c;
  });
}

function templateHash(template: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(template)).digest();
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  return [...h.subarray(0, 10)].map((b) => chars[b % chars.length]).join('');
}

export class Cluster {
  timing: PodTiming = { ...DEFAULT_TIMING };
  backing: BackingFactory | undefined;
  /** How often the readiness probe of a backed pod is run (real HTTP GET to the probe's path) until it passes... */
  probePeriodMs = 50;
  /** ...and once the pod is Ready. */
  readyProbePeriodMs = 1000;
  private readonly behaviours: { match: PodMatch; behaviour: PodBehaviour }[] = [];
  private readonly runtimes = new Map<string, Runtime>();
  private readonly pods: ResourceDef;
  private readonly events: ResourceDef;
  private reconcileQueued = false;
  private closed = false;
  private nextIp = 10;
  private readonly unsubscribe: () => void;
  /** Readiness overrides set at run time (`setReady`), by pod uid. */
  private readonly readyOverride = new Map<string, boolean>();

  constructor(private readonly store: Store) {
    this.pods = store.resource('', 'pods');
    this.events = store.resource('', 'events');
    store.gracefulDeleter = (r, obj, opts) => this.gracefulDelete(r, obj, opts);
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  /** Matching pods created from now on behave this way (later rules override earlier ones). */
  setBehaviour(match: PodMatch, behaviour: PodBehaviour): () => void {
    const rule = { match, behaviour };
    this.behaviours.push(rule);
    return () => {
      const i = this.behaviours.indexOf(rule);
      if (i >= 0) this.behaviours.splice(i, 1);
    };
  }

  /** Makes a running pod's readiness probe pass or fail from now on (undefined: back to normal). */
  setReady(namespace: string, name: string, ready: boolean | undefined): void {
    const pod = this.store.get(this.pods, namespace, name);
    if (pod === undefined) throw new Error(`no pod ${namespace}/${name}`);
    if (ready === undefined) this.readyOverride.delete(pod.metadata.uid!);
    else this.readyOverride.set(pod.metadata.uid!, ready);
    const rt = this.runtimes.get(pod.metadata.uid!);
    if (rt !== undefined && this.phaseOf(pod) === 'Running') this.setReadiness(rt, ready ?? !rt.behaviour.readinessFailing);
  }

  backingPort(pod: KubeObject, containerPort: number): number | undefined {
    const b = this.runtimes.get(pod.metadata.uid!)?.backing;
    if (b === undefined) return undefined;
    return typeof b.ports === 'number' ? b.ports : b.ports[containerPort];
  }

  podLog(pod: KubeObject): string {
    return this.runtimes.get(pod.metadata.uid!)?.backing?.log?.() ?? this.logs.get(pod.metadata.uid!) ?? '';
  }

  /** Usage set by the test (`setUsage`), by pod uid. */
  private readonly usageOverride = new Map<string, { cpuMillicores: number; memoryBytes: number }>();
  private readonly cpuSamples = new Map<string, { ticks: number; at: number }>();

  /** What the metrics API reports for a pod from now on. */
  setUsage(namespace: string, name: string, usage: { cpuMillicores: number; memoryBytes: number }): void {
    const pod = this.store.get(this.pods, namespace, name);
    if (pod === undefined) throw new Error(`no pod ${namespace}/${name}`);
    this.usageOverride.set(pod.metadata.uid!, usage);
  }

  /** A pod's CPU and memory as metrics-server would report them: the test's figure, the backing's, or /proc. */
  podUsage(pod: KubeObject): { cpuMillicores: number; memoryBytes: number } {
    const uid = pod.metadata.uid!;
    const set = this.usageOverride.get(uid);
    if (set !== undefined) return set;
    const b = this.runtimes.get(uid)?.backing;
    if (b?.usage !== undefined) return b.usage();
    if (b?.pid === undefined) return { cpuMillicores: 0, memoryBytes: 0 };
    try {
      const stat = readFileSync(`/proc/${b.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const rssPages = Number(readFileSync(`/proc/${b.pid}/statm`, 'utf8').split(' ')[1]);
      const prev = this.cpuSamples.get(uid);
      const at = Date.now();
      this.cpuSamples.set(uid, { ticks, at });
      // Clock ticks are 1/100 s on Linux.
      const cpu = prev === undefined || at === prev.at ? 0 : ((ticks - prev.ticks) * 10 * 1000) / (at - prev.at);
      return { cpuMillicores: Math.max(0, cpu), memoryBytes: rssPages * 4096 };
    } catch {
      return { cpuMillicores: 0, memoryBytes: 0 };
    }
  }

  /** Output of backings that stopped, kept while their pod exists (a finished Job's pod). */
  private readonly logs = new Map<string, string>();

  /** The backing of a pod, for tests that want to reach its process directly. */
  backingOf(namespace: string, name: string): PodBacking | undefined {
    const pod = this.store.get(this.pods, namespace, name);
    return pod === undefined ? undefined : this.runtimes.get(pod.metadata.uid!)?.backing;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    const stops: Promise<void>[] = [];
    for (const rt of this.runtimes.values()) stops.push(this.stopRuntime(rt));
    this.runtimes.clear();
    await Promise.all(stops);
  }

  // ---- kubelet ------------------------------------------------------------------------------------

  private onEvent(e: StoreEvent): void {
    if (this.closed) return;
    if (e.resource.plural === 'pods') {
      if (e.type === 'ADDED') this.startPod(e.object);
      if (e.type === 'DELETED') {
        const rt = this.runtimes.get(e.object.metadata.uid!);
        if (rt !== undefined) {
          this.runtimes.delete(rt.uid);
          void this.stopRuntime(rt);
        }
        this.readyOverride.delete(e.object.metadata.uid!);
        this.logs.delete(e.object.metadata.uid!);
        this.usageOverride.delete(e.object.metadata.uid!);
        this.lastReady.delete(e.object.metadata.uid!);
        this.cpuSamples.delete(e.object.metadata.uid!);
      }
    }
    if (['pods', 'deployments', 'replicasets', 'statefulsets', 'jobs', 'services'].includes(e.resource.plural)) this.queueReconcile();
  }

  private later(rt: Runtime, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      rt.timers.delete(t);
      if (!rt.stopped && !this.closed) fn();
    }, ms);
    rt.timers.add(t);
  }

  private async stopRuntime(rt: Runtime): Promise<void> {
    rt.stopped = true;
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    const b = rt.backing;
    delete rt.backing;
    if (b?.log !== undefined) this.logs.set(rt.uid, b.log());
    if (b !== undefined) await b.stop().catch(() => undefined);
  }

  private phaseOf(pod: KubeObject): string {
    return ((pod.status ?? {}) as { phase?: string }).phase ?? 'Pending';
  }

  /** Applies `change` to the pod's status (fresh read, no precondition), unless the pod is gone. */
  private patchStatus(rt: Runtime, change: (status: Json, pod: KubeObject) => void): KubeObject | undefined {
    const pod = this.store.get(this.pods, rt.namespace, rt.name);
    if (pod === undefined || pod.metadata.uid !== rt.uid) return undefined;
    const status = structuredClone((pod.status ?? {}) as Json);
    change(status, pod);
    if (Array.isArray(status.conditions)) status.conditions = keepTransitions((pod.status as Json | undefined)?.conditions as Json[] | undefined, status.conditions as Json[]);
    pod.status = status;
    delete pod.metadata.resourceVersion;
    return this.store.update(this.pods, pod, { internal: true });
  }

  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component = 'kubelet'): void {
    if (this.closed || obj.metadata.namespace === undefined) return;
    try {
      this.store.create(this.events, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${randomSuffix(3)}`, namespace: obj.metadata.namespace },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid },
        reason,
        message,
        type,
        source: { component },
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
      });
    } catch {
      // the namespace is going away
    }
  }

  private startPod(pod: KubeObject): void {
    const behaviour: PodBehaviour = {};
    for (const b of this.behaviours) if (podMatches(b.match, pod)) Object.assign(behaviour, b.behaviour, { timing: { ...behaviour.timing, ...b.behaviour.timing } });
    const rt: Runtime = {
      uid: pod.metadata.uid!,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      timers: new Set(),
      stopped: false,
      behaviour,
      timing: { ...this.timing, ...behaviour.timing },
      restarts: 0,
    };
    this.runtimes.set(rt.uid, rt);
    const names = containersOf(pod).map((c) => c.name);
    if (behaviour.unschedulable === true) {
      this.later(rt, rt.timing.scheduleMs, () => {
        const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
        this.patchStatus(rt, (s) => {
          s.phase = 'Pending';
          s.conditions = [condition('PodScheduled', false, 'Unschedulable', message)];
        });
        this.event(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      });
      return;
    }
    this.later(rt, rt.timing.scheduleMs, () => {
      const ip = `10.244.0.${this.nextIp++ % 250}`;
      this.patchStatus(rt, (s, p) => {
        (p.spec ??= {}).nodeName = 'fake-node-1';
        s.phase = 'Pending';
        s.hostIP = '172.18.0.2';
        s.hostIPs = [{ ip: '172.18.0.2' }];
        s.podIP = ip;
        s.podIPs = [{ ip }];
        s.startTime = now();
        s.conditions = [
          condition('PodReadyToStartContainers', false),
          condition('Initialized', true),
          condition('Ready', false, 'ContainersNotReady', `containers with unready status: [${names.join(' ')}]`),
          condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${names.join(' ')}]`),
          condition('PodScheduled', true),
        ];
        s.containerStatuses = containersOf(p).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        }));
      });
      this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${rt.namespace}/${rt.name} to fake-node-1`, 'default-scheduler');
      this.create(rt, pod);
    });
  }

  /** ContainerCreating: pull (or fail to), start the backing process, then Running. */
  private create(rt: Runtime, pod: KubeObject): void {
    const image = containersOf(pod)[0]?.image ?? '';
    if (rt.behaviour.imagePullBackOff === true) {
      this.later(rt, rt.timing.createMs, () => {
        const setWaiting = (reason: string, message: string): void => {
          this.patchStatus(rt, (s) => {
            for (const c of (s.containerStatuses ?? []) as Json[]) c.state = { waiting: { reason, message } };
          });
        };
        const pullMsg = `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
        setWaiting('ErrImagePull', pullMsg);
        this.event(pod, 'Warning', 'Failed', pullMsg);
        this.later(rt, rt.timing.createMs, () => {
          setWaiting('ImagePullBackOff', `Back-off pulling image "${image}"`);
          this.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
        });
      });
      return;
    }
    this.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    const started = Date.now();
    const wantBacking = this.backing !== undefined && rt.behaviour.backed !== false && rt.behaviour.crashLoopBackOff !== true;
    const backing: Promise<PodBacking | undefined | Error> = wantBacking
      ? this.backing!(pod).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
      : Promise.resolve(undefined);
    void backing.then((b) => {
      if (b instanceof Error) {
        // The process did not start: the container waits in CreateContainerError; the kubelet retries.
        if (rt.stopped || this.closed) return;
        rt.restarts++;
        this.patchStatus(rt, (s) => {
          for (const c of (s.containerStatuses ?? []) as Json[]) c.state = { waiting: { reason: 'CreateContainerError', message: b.message } };
        });
        this.event(pod, 'Warning', 'Failed', `Error: ${b.message}`);
        if (rt.restarts < 20) this.later(rt, Math.max(100, rt.timing.createMs), () => this.create(rt, pod));
        return;
      }
      if (rt.stopped || this.closed) {
        void b?.stop().catch(() => undefined);
        return;
      }
      if (b !== undefined) {
        rt.backing = b;
        void b.exited?.then((code) => this.exited(rt, code));
      }
      this.later(rt, Math.max(0, rt.timing.createMs - (Date.now() - started)), () => this.run(rt, pod));
    });
  }

  private run(rt: Runtime, pod: KubeObject): void {
    const startedAt = now();
    this.patchStatus(rt, (s) => {
      s.phase = 'Running';
      s.conditions = (s.conditions as Json[]).map((c) => (c.type === 'PodReadyToStartContainers' ? condition('PodReadyToStartContainers', true) : c));
      for (const c of (s.containerStatuses ?? []) as Json[]) {
        c.state = { running: { startedAt } };
        c.started = true;
        c.containerID = `containerd://${randomSuffix(12)}`;
      }
    });
    this.event(pod, 'Normal', 'Started', `Started container ${containersOf(pod)[0]?.name ?? ''}`);
    if (rt.behaviour.crashLoopBackOff === true) {
      this.later(rt, rt.timing.readyMs, () => this.crash(rt, pod));
      return;
    }
    if (rt.backing === undefined && (rt.behaviour.exitCode !== undefined || rt.behaviour.runMs !== undefined || this.restartPolicy(pod) === 'Never')) {
      this.later(rt, rt.behaviour.runMs ?? rt.timing.readyMs, () => this.exited(rt, rt.behaviour.exitCode ?? 0));
      if (this.restartPolicy(pod) === 'Never' && rt.behaviour.runMs === undefined) return;
    }
    this.later(rt, rt.timing.readyMs, () => this.probe(rt, pod, true));
  }

  private restartPolicy(pod: KubeObject): string {
    return (pod.spec?.restartPolicy as string | undefined) ?? 'Always';
  }

  /** The readiness probe: the test's override, the behaviour, else a real HTTP GET to a backed pod. */
  private probe(rt: Runtime, pod: KubeObject, first: boolean): void {
    const override = this.readyOverride.get(rt.uid);
    const httpGet = (containersOf(pod)[0] as { readinessProbe?: { httpGet?: { path?: string; port?: number | string } } } | undefined)?.readinessProbe?.httpGet;
    const decide = (ok: boolean): void => {
      this.setReadiness(rt, ok, first && !ok);
      this.later(rt, ok ? this.readyProbePeriodMs : this.probePeriodMs, () => this.probe(rt, pod, false));
    };
    if (override !== undefined) return decide(override);
    if (rt.behaviour.readinessFailing === true) return decide(false);
    if (rt.backing === undefined || httpGet === undefined) return decide(true);
    const named = (containersOf(pod)[0]?.ports ?? []).find((p) => (p as { name?: string }).name === httpGet.port);
    const port = this.backingPort(pod, typeof httpGet.port === 'number' ? httpGet.port : (named?.containerPort ?? Number(httpGet.port)));
    if (port === undefined) return decide(false);
    fetch(`http://127.0.0.1:${port}${httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(1000) })
      .then((r) => {
        void r.body?.cancel();
        return r.status >= 200 && r.status < 400;
      })
      .catch(() => false)
      .then((ok) => {
        if (!rt.stopped && !this.closed) decide(ok);
      });
  }

  private lastReady = new Map<string, boolean>();

  private setReadiness(rt: Runtime, ready: boolean, announceFailure = false): void {
    if (this.lastReady.get(rt.uid) === ready) return;
    this.lastReady.set(rt.uid, ready);
    const pod = this.patchStatus(rt, (s, p) => {
      const names = containersOf(p).map((c) => c.name);
      s.conditions = (s.conditions as Json[]).map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady'
          ? ready
            ? condition(c.type as string, true)
            : condition(c.type as string, false, 'ContainersNotReady', `containers with unready status: [${names.join(' ')}]`)
          : c,
      );
      for (const c of (s.containerStatuses ?? []) as Json[]) c.ready = ready;
    });
    if (!ready && pod !== undefined && (announceFailure || rt.behaviour.readinessFailing === true || this.readyOverride.get(rt.uid) === false)) {
      this.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503');
    }
  }

  /** CrashLoopBackOff: the container exits 1, waits in back-off, restarts, exits again. */
  private crash(rt: Runtime, pod: KubeObject): void {
    rt.restarts++;
    const name = containersOf(pod)[0]?.name ?? '';
    this.patchStatus(rt, (s) => {
      for (const c of (s.containerStatuses ?? []) as Json[]) {
        c.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: now(), finishedAt: now(), containerID: c.containerID } };
        c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${10 * 2 ** Math.min(rt.restarts - 1, 5)}s restarting failed container=${name} pod=${rt.name}_${rt.namespace}(${rt.uid})` } };
        c.ready = false;
        c.started = false;
        c.restartCount = rt.restarts;
      }
    });
    this.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    if (rt.restarts < 1000) this.later(rt, rt.timing.createMs + rt.timing.readyMs, () => this.crash(rt, pod));
  }

  /** The container ended by itself: Succeeded/Failed for restartPolicy Never, else a restart. */
  private exited(rt: Runtime, code: number): void {
    if (rt.stopped || this.closed) return;
    const pod = this.store.get(this.pods, rt.namespace, rt.name);
    if (pod === undefined || pod.metadata.uid !== rt.uid || pod.metadata.deletionTimestamp !== undefined) return;
    const policy = this.restartPolicy(pod);
    const finished = policy === 'Never' || (policy === 'OnFailure' && code === 0);
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    this.lastReady.delete(rt.uid);
    this.patchStatus(rt, (s) => {
      if (finished) s.phase = code === 0 ? 'Succeeded' : 'Failed';
      const reason = code === 0 ? 'Completed' : 'Error';
      s.conditions = ((s.conditions ?? []) as Json[]).map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? condition(c.type as string, false, finished ? 'PodCompleted' : 'ContainersNotReady') : c,
      );
      for (const c of (s.containerStatuses ?? []) as Json[]) {
        const terminated = { exitCode: code, reason, startedAt: ((c.state as Json).running as Json | undefined)?.startedAt ?? now(), finishedAt: now(), containerID: c.containerID };
        c.ready = false;
        c.started = false;
        if (finished) c.state = { terminated };
        else {
          c.lastState = { terminated };
          c.state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } };
          c.restartCount = ((c.restartCount as number) ?? 0) + 1;
        }
      }
    });
    if (!finished) {
      // Restart the container: a new backing process, Running, Ready.
      const b = rt.backing;
      delete rt.backing;
      void (async () => {
        await b?.stop().catch(() => undefined);
        if (rt.stopped || this.closed) return;
        const fresh = this.store.get(this.pods, rt.namespace, rt.name);
        if (fresh !== undefined) this.create(rt, fresh);
      })();
    }
  }

  /** Pods on a node are stopped by the kubelet before they go; unscheduled pods and grace 0 go at once. */
  private gracefulDelete(r: ResourceDef, obj: KubeObject, opts: DeleteOptions): boolean {
    if (r.plural !== 'pods' || this.closed) return false;
    const grace = opts.gracePeriodSeconds ?? (obj.spec?.terminationGracePeriodSeconds as number | undefined) ?? 30;
    const rt = this.runtimes.get(obj.metadata.uid!);
    if (grace === 0 || obj.spec?.nodeName === undefined || rt === undefined) return false;
    this.runtimes.delete(rt.uid);
    this.event(obj, 'Normal', 'Killing', `Stopping container ${containersOf(obj)[0]?.name ?? ''}`);
    void (async () => {
      const stopped = this.stopRuntime(rt);
      await new Promise((res) => setTimeout(res, rt.timing.terminateMs));
      await stopped;
      this.store.finishGraceful(this.pods, rt.namespace, rt.name, rt.uid);
    })();
    return true;
  }

  // ---- controllers --------------------------------------------------------------------------------

  private queueReconcile(): void {
    if (this.reconcileQueued || this.closed) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      if (this.closed) return;
      this.reconcile();
    });
  }

  private reconcile(): void {
    const deploy = this.store.resource('apps', 'deployments');
    const rs = this.store.resource('apps', 'replicasets');
    const sts = this.store.resource('apps', 'statefulsets');
    const jobs = this.store.resource('batch', 'jobs');
    const safe = (fn: () => void): void => {
      try {
        fn();
      } catch {
        // a conflict with a concurrent change or a namespace going away: the next event reconciles again
      }
    };
    for (const d of this.store.list(deploy)) safe(() => this.reconcileDeployment(d, rs));
    for (const r of this.store.list(rs)) safe(() => this.reconcileReplicaSet(r, rs));
    for (const d of this.store.list(deploy)) safe(() => this.deploymentStatus(d, rs));
    for (const s of this.store.list(sts)) safe(() => this.reconcileStatefulSet(s, sts));
    for (const j of this.store.list(jobs)) safe(() => this.reconcileJob(j, jobs));
    safe(() => this.reconcileEndpoints());
  }

  /** The endpoints controller: one Endpoints per Service with a selector, ready and not-ready pod addresses. */
  private reconcileEndpoints(): void {
    const services = this.store.resource('', 'services');
    const endpoints = this.store.resource('', 'endpoints');
    const live = new Set<string>();
    for (const svc of this.store.list(services)) {
      const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[] };
      if (spec.selector === undefined) continue;
      const ns = svc.metadata.namespace!;
      live.add(`${ns}/${svc.metadata.name}`);
      const pods = this.store
        .list(this.pods, ns)
        .filter((p) => matchesLabelSelectorObject({ matchLabels: spec.selector }, p.metadata.labels) && p.metadata.deletionTimestamp === undefined && (p.status as { podIP?: string } | undefined)?.podIP !== undefined);
      const address = (p: KubeObject): Json => ({ ip: (p.status as { podIP: string }).podIP, nodeName: p.spec?.nodeName, targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } });
      const ready = pods.filter(Cluster.isReady).map(address);
      const notReady = pods.filter((p) => !Cluster.isReady(p)).map(address);
      const ports = (spec.ports ?? []).map((sp) => {
        let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
        if (typeof sp.targetPort === 'string') {
          const named = pods.flatMap((p) => containersOf(p).flatMap((c) => (c.ports ?? []) as { name?: string; containerPort: number }[])).find((cp) => cp.name === sp.targetPort);
          if (named !== undefined) port = named.containerPort;
        }
        return { ...(sp.name === undefined ? {} : { name: sp.name }), port, protocol: sp.protocol ?? 'TCP' };
      });
      const subset: Json = { ports };
      if (ready.length > 0) subset.addresses = ready;
      if (notReady.length > 0) subset.notReadyAddresses = notReady;
      const subsets = pods.length === 0 ? [] : [subset];
      const cur = this.store.get(endpoints, ns, svc.metadata.name);
      if (cur === undefined) {
        this.store.create(endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: ns, labels: { ...(svc.metadata.labels ?? {}) } }, subsets } as unknown as KubeObject);
      } else if (JSON.stringify(cur.subsets) !== JSON.stringify(subsets)) {
        cur.subsets = subsets;
        delete cur.metadata.resourceVersion;
        this.store.update(endpoints, cur);
      }
    }
    const anyService = new Set(this.store.list(services).map((x) => `${x.metadata.namespace}/${x.metadata.name}`));
    for (const ep of this.store.list(endpoints)) {
      if (!anyService.has(`${ep.metadata.namespace}/${ep.metadata.name}`) && ep.metadata.deletionTimestamp === undefined) {
        this.store.delete(endpoints, ep.metadata.namespace, ep.metadata.name);
      }
    }
  }

  private ownedPods(owner: KubeObject): KubeObject[] {
    return this.store.list(this.pods, owner.metadata.namespace).filter((p) => (p.metadata.ownerReferences ?? []).some((o) => o.uid === owner.metadata.uid));
  }

  private static isReady(p: KubeObject): boolean {
    return (((p.status ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  }

  private static active(p: KubeObject): boolean {
    const phase = ((p.status ?? {}) as { phase?: string }).phase;
    return p.metadata.deletionTimestamp === undefined && phase !== 'Succeeded' && phase !== 'Failed';
  }

  private ownerRef(owner: KubeObject): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
    return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
  }

  private newPod(owner: KubeObject, name: string | undefined, generateName: string, extraLabels: Record<string, string>): void {
    const template = structuredClone(((owner.spec ?? {}) as { template?: { metadata?: KubeObject['metadata']; spec?: Json } }).template ?? {});
    const md: KubeObject['metadata'] = {
      name: name ?? '',
      namespace: owner.metadata.namespace!,
      labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
      ownerReferences: [this.ownerRef(owner)],
    };
    if (name === undefined) md.generateName = generateName;
    if (template.metadata?.annotations !== undefined) md.annotations = template.metadata.annotations;
    const spec = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', ...(template.spec ?? {}) };
    this.store.create(this.pods, { apiVersion: 'v1', kind: 'Pod', metadata: md, spec, status: { phase: 'Pending', qosClass: 'BestEffort' } });
  }

  private reconcileDeployment(d: KubeObject, rsRes: ResourceDef): void {
    if (d.metadata.deletionTimestamp !== undefined) return;
    const spec = (d.spec ?? {}) as { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } }; selector?: Json };
    const hash = templateHash(spec.template);
    const name = `${d.metadata.name}-${hash}`;
    const owned = this.store.list(rsRes, d.metadata.namespace).filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.uid === d.metadata.uid));
    if (!owned.some((r) => r.metadata.name === name)) {
      const template = structuredClone(spec.template ?? {}) as { metadata?: { labels?: Record<string, string> } };
      template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
      const selector = structuredClone(spec.selector ?? {}) as { matchLabels?: Record<string, string> };
      selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
      this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${spec.replicas ?? 1}`, 'deployment-controller');
      this.store.create(rsRes, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name, namespace: d.metadata.namespace!, labels: { ...(template.metadata.labels ?? {}) }, ownerReferences: [this.ownerRef(d)], annotations: { 'deployment.kubernetes.io/revision': String(owned.length + 1) } },
        spec: { replicas: spec.replicas ?? 1, selector, template },
        status: { replicas: 0 },
      });
    }
    for (const r of owned) {
      const want = r.metadata.name === name ? (spec.replicas ?? 1) : 0;
      const had = (r.spec as { replicas?: number }).replicas ?? 0;
      if (had !== want) {
        this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${want > had ? 'up' : 'down'} replica set ${r.metadata.name} from ${had} to ${want}`, 'deployment-controller');
        (r.spec as { replicas?: number }).replicas = want;
        delete r.metadata.resourceVersion;
        this.store.update(rsRes, r);
      }
    }
  }

  private reconcileReplicaSet(r: KubeObject, rsRes: ResourceDef): void {
    if (r.metadata.deletionTimestamp !== undefined) return;
    const spec = (r.spec ?? {}) as { replicas?: number; selector?: Parameters<typeof matchesLabelSelectorObject>[0] };
    const pods = this.ownedPods(r);
    const active = pods.filter(Cluster.active);
    const want = spec.replicas ?? 1;
    const hash = r.metadata.labels?.['pod-template-hash'];
    for (let i = active.length; i < want; i++) this.newPod(r, undefined, `${r.metadata.name}-`, hash === undefined ? {} : { 'pod-template-hash': hash });
    if (active.length > want) {
      const victims = [...active].sort((a, b) => Number(Cluster.isReady(a)) - Number(Cluster.isReady(b)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
      for (const p of victims.slice(0, active.length - want)) this.store.delete(this.pods, p.metadata.namespace, p.metadata.name, {});
    }
    const ready = active.filter(Cluster.isReady).length;
    this.writeStatus(rsRes, r, { replicas: active.length, fullyLabeledReplicas: active.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: r.metadata.generation });
  }

  private writeStatus(res: ResourceDef, obj: KubeObject, status: Json): void {
    const clean = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined && v !== 0));
    const prev = (obj.status ?? {}) as Json;
    if (Array.isArray(clean.conditions)) clean.conditions = keepTransitions(prev.conditions as Json[] | undefined, clean.conditions as Json[]);
    if (JSON.stringify(prev) === JSON.stringify(clean)) return;
    obj.status = clean;
    delete obj.metadata.resourceVersion;
    this.store.update(res, obj, { subresource: 'status' });
  }

  private deploymentStatus(d: KubeObject, rsRes: ResourceDef): void {
    const cur = this.store.get(this.store.resource('apps', 'deployments'), d.metadata.namespace, d.metadata.name);
    if (cur === undefined) return;
    const spec = (cur.spec ?? {}) as { replicas?: number; template?: unknown };
    const hash = templateHash(spec.template);
    const owned = this.store.list(rsRes, cur.metadata.namespace).filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.uid === cur.metadata.uid));
    let replicas = 0;
    let ready = 0;
    let updated = 0;
    for (const r of owned) {
      const active = this.ownedPods(r).filter(Cluster.active);
      replicas += active.length;
      ready += active.filter(Cluster.isReady).length;
      if (r.metadata.name === `${cur.metadata.name}-${hash}`) updated = active.length;
    }
    const want = spec.replicas ?? 1;
    const maxUnavailable = Math.floor(want * 0.25);
    const available = ready >= want - maxUnavailable;
    const complete = updated === want && ready >= want && replicas === want;
    const rsName = `${cur.metadata.name}-${hash}`;
    this.writeStatus(this.store.resource('apps', 'deployments'), cur, {
      observedGeneration: cur.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, want - ready),
      conditions: [
        available
          ? { type: 'Available', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        complete
          ? { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }
          : { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
      ],
    });
  }

  /** OrderedReady: pod i is created once pods 0..i-1 are Ready; a deleted pod comes back under its name. */
  private reconcileStatefulSet(s: KubeObject, stsRes: ResourceDef): void {
    if (s.metadata.deletionTimestamp !== undefined) return;
    const spec = (s.spec ?? {}) as { replicas?: number; template?: unknown };
    const want = spec.replicas ?? 1;
    const revision = `${s.metadata.name}-${templateHash(spec.template)}`;
    const pods = this.ownedPods(s);
    for (let i = 0; i < want; i++) {
      const name = `${s.metadata.name}-${i}`;
      const p = pods.find((x) => x.metadata.name === name);
      if (p === undefined) {
        if (this.store.get(this.pods, s.metadata.namespace, name) !== undefined) break; // the old one is still terminating
        this.newPod(s, name, '', { 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(i), 'controller-revision-hash': revision });
        break;
      }
      if (!Cluster.isReady(p)) break;
    }
    for (const p of pods) {
      const idx = Number(p.metadata.name.slice(s.metadata.name.length + 1));
      if (idx >= want && p.metadata.deletionTimestamp === undefined) this.store.delete(this.pods, p.metadata.namespace, p.metadata.name, {});
    }
    const active = pods.filter(Cluster.active);
    const ready = active.filter(Cluster.isReady).length;
    this.writeStatus(stsRes, s, {
      observedGeneration: s.metadata.generation,
      replicas: active.length,
      readyReplicas: ready,
      currentReplicas: active.length,
      updatedReplicas: active.length,
      availableReplicas: ready,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: undefined,
    });
  }

  private reconcileJob(j: KubeObject, jobRes: ResourceDef): void {
    if (j.metadata.deletionTimestamp !== undefined) return;
    const spec = (j.spec ?? {}) as { backoffLimit?: number; completions?: number };
    const status = (j.status ?? {}) as Json;
    if (((status.conditions ?? []) as Json[]).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) return;
    const pods = this.ownedPods(j);
    const succeeded = pods.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Succeeded').length;
    const failed = pods.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Failed').length;
    const active = pods.filter(Cluster.active).length;
    const labels = { 'batch.kubernetes.io/controller-uid': j.metadata.uid!, 'batch.kubernetes.io/job-name': j.metadata.name, 'controller-uid': j.metadata.uid!, 'job-name': j.metadata.name };
    const completions = spec.completions ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;
    const next: Json = { ...status, active, succeeded, failed, ready: pods.filter((p) => Cluster.active(p) && Cluster.isReady(p)).length, startTime: status.startTime ?? now() };
    if (succeeded >= completions) {
      next.completionTime = now();
      next.conditions = [
        { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now(), lastTransitionTime: now(), reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
        { type: 'Complete', status: 'True', lastProbeTime: now(), lastTransitionTime: now(), reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
      ];
    } else if (failed > backoffLimit) {
      next.conditions = [
        { type: 'FailureTarget', status: 'True', lastProbeTime: now(), lastTransitionTime: now(), reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        { type: 'Failed', status: 'True', lastProbeTime: now(), lastTransitionTime: now(), reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      ];
    } else if (active === 0) {
      this.newPod(j, undefined, `${j.metadata.name}-`, labels);
      next.active = 1;
    }
    this.writeStatus(jobRes, j, next);
  }
}
