import type { Clock } from '../../core/clock.js';
import type { EventSink } from '../../core/journal.js';
import type { ReplicaPhase, ReplicaStatus } from '../types.js';
import type { KubeClient, KubeObject } from './client.js';
import { byKind } from './resources.js';
import { ResilientWatch, type WatchEventType } from './watch.js';

/** Where a pod is on its way to serving, as `kubectl get pods` would show it. */
export type PodPhase = 'Pending' | 'ContainerCreating' | 'Running' | 'Ready' | 'Terminating' | 'Failed' | 'Succeeded' | 'Deleted';

/** The platform-neutral phase the journal records (a pod that failed, succeeded or was deleted is Terminated). */
function replicaPhase(p: PodPhase): ReplicaPhase {
  return p === 'Failed' || p === 'Succeeded' || p === 'Deleted' ? 'Terminated' : p;
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { reason?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}
interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
export interface PodView {
  metadata?: { name?: string; uid?: string; deletionTimestamp?: unknown; labels?: Record<string, string>; ownerReferences?: { kind?: string; name?: string }[] };
  spec?: { nodeName?: string; containers?: { name?: string; ports?: { name?: string; containerPort?: number }[] }[] };
  status?: { phase?: string; conditions?: PodCondition[]; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
}

const WAITING_BAD = ['ImagePullBackOff', 'ErrImagePull', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError'];

export function phaseOf(pod: PodView): PodPhase {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return phase;
  if (isReady(pod)) return 'Ready';
  const statuses = pod.status?.containerStatuses ?? [];
  if (phase === 'Running') return 'Running';
  const waiting = statuses.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
  if (waiting === 'ContainerCreating' || waiting === 'PodInitializing') return 'ContainerCreating';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  // Scheduled, containers not yet up: the kubelet is pulling and creating (kubectl says ContainerCreating).
  if (scheduled?.status === 'True' && statuses.every((c) => !c.state?.running)) return 'ContainerCreating';
  return 'Pending';
}

/** The short reason a phase event carries: a container's bad waiting reason, or Unschedulable. */
export function reasonOf(pod: PodView): string | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return 'Unschedulable';
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting?.reason;
    if (w && WAITING_BAD.includes(w)) return w;
  }
  return undefined;
}

export function isReady(pod: PodView): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Why a pod is not ready, in the words kubectl describe would use; undefined when it is just not there yet. */
export function problemOf(pod: PodView): string | undefined {
  const name = pod.metadata?.name ?? '?';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return `pod ${name} is Unschedulable: ${scheduled.message ?? 'no node fits'}`;
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting;
    if (w?.reason && WAITING_BAD.includes(w.reason)) {
      const last = c.lastState?.terminated ? ` (last exit: ${c.lastState.terminated.reason ?? ''} code ${c.lastState.terminated.exitCode ?? '?'})` : '';
      return `pod ${name}: container ${c.name ?? '?'} is in ${w.reason}${w.message ? `: ${w.message}` : ''}${last}`;
    }
    if (c.state?.terminated && pod.status?.phase !== 'Running') return `pod ${name}: container ${c.name ?? '?'} terminated (${c.state.terminated.reason ?? 'exit'} code ${c.state.terminated.exitCode ?? '?'})`;
  }
  if (pod.status?.phase === 'Running') {
    const ready = pod.status.conditions?.find((c) => c.type === 'Ready');
    const notReady = (pod.status.containerStatuses ?? []).filter((c) => c.state?.running && !c.ready).map((c) => c.name ?? '?');
    if (notReady.length > 0) return `pod ${name}: readiness probe failing on container ${notReady.join(', ')}${ready?.message ? ` (${ready.message})` : ''}`;
  }
  if (pod.status?.phase === 'Failed') return `pod ${name} Failed`;
  return undefined;
}

interface Tracked {
  name: string;
  phase: PodPhase;
  /** Run-clock time of the first sight of the pod. */
  seenAtMs: number;
  readyAtMs?: number;
  lostAtMs?: number;
  replaces?: string;
  pod: PodView;
  initial: boolean;
  /** The last reason journalled. */
  reason?: string | undefined;
}

/** A pod the tracker saw go (deleted, terminating, failed), waiting for its replacement. */
interface Lost {
  name: string;
  atMs: number;
  matched: boolean;
}

/**
 * Follows the pods of a selector through a resilient watch and writes their life to the journal:
 * every phase change (`pod.phase`, so "40 s in ContainerCreating" is visible in the timeline), and
 * the replica events platform RTO is computed from: `replica.lost` when a pod goes, `replica.started`
 * / `replica.ready` for a new pod, naming the pod it replaces (the oldest lost pod not yet replaced:
 * the ReplicaSet does not say which one a new pod replaces, and only the count matters to it).
 */
export class PodTracker {
  private readonly pods = new Map<string, Tracked>();
  private readonly lost: Lost[] = [];
  private watch?: ResilientWatch;
  private starting = true;
  private readonly waiters = new Set<() => void>();
  private failure?: Error;
  /** Pod-kill faults in progress: a pod lost meanwhile was killed by it (`replica.killed`). */
  private killFault?: string;

  constructor(
    private readonly client: KubeClient,
    private readonly selector: string,
    private readonly journal: EventSink,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    this.watch = new ResilientWatch(this.client, byKind('Pod'), (t, o) => this.onEvent(t, o), {
      labelSelector: this.selector,
      journal: this.journal,
      onFailed: (err) => {
        this.failure = err;
        this.wake();
      },
    });
    await this.watch.start();
    this.starting = false;
  }

  stop(): void {
    this.watch?.stop();
    this.wake();
  }

  get watchStats(): ResilientWatch['stats'] | undefined {
    return this.watch?.stats;
  }

  /** While set, a pod seen going is journalled as `replica.killed` by this fault. */
  attributeLossesTo(fault: string | undefined): void {
    this.killFault = fault;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onEvent(type: WatchEventType, obj: KubeObject): void {
    const pod = obj as PodView;
    const name = pod.metadata?.name;
    if (!name) return;
    const now = this.clock.now();
    let t = this.pods.get(name);
    if (!t) {
      if (type === 'DELETED') return;
      const replaces = this.starting ? undefined : this.lost.find((l) => !l.matched);
      if (replaces) replaces.matched = true;
      t = { name, phase: 'Pending', seenAtMs: now, pod, initial: this.starting, ...(replaces ? { replaces: replaces.name } : {}) };
      this.pods.set(name, t);
      this.journal.record({ source: 'platform', type: 'replica.started', target: name, detail: { replaces: t.replaces ?? null, node: pod.spec?.nodeName ?? null } });
      this.transition(t, phaseOf(pod), pod, now, true);
      this.wake();
      return;
    }
    t.pod = pod;
    this.transition(t, type === 'DELETED' ? 'Deleted' : phaseOf(pod), pod, now, false);
    if (type === 'DELETED') this.pods.delete(name);
    this.wake();
  }

  private transition(t: Tracked, phase: PodPhase, pod: PodView, now: number, first: boolean): void {
    const reason = reasonOf(pod) ?? (phase !== replicaPhase(phase) ? phase : undefined);
    if (!first && phase === t.phase && reason === t.reason) return;
    const from = first ? null : t.phase;
    t.phase = phase;
    if (first || replicaPhase(phase) !== replicaPhase(from as PodPhase)) {
      this.journal.record({ source: 'platform', type: 'replica.phase', target: t.name, detail: { phase: replicaPhase(phase), replaces: t.replaces ?? null, reason: reason ?? null } });
    } else if (reason && reason !== t.reason) {
      // Same phase, a new trouble (ContainerCreating → ImagePullBackOff): journalled too.
      this.journal.record({ source: 'platform', type: 'replica.phase', target: t.name, detail: { phase: replicaPhase(phase), replaces: t.replaces ?? null, reason } });
    }
    t.reason = reason;
    if (phase === 'Ready' && t.readyAtMs === undefined) {
      t.readyAtMs = now;
      this.journal.record({ source: 'platform', type: 'replica.ready', target: t.name, detail: { replaces: t.replaces ?? null } });
    }
    if (from === 'Ready') this.journal.record({ source: 'platform', type: 'replica.not-ready', target: t.name, detail: { phase } });
    if ((phase === 'Terminating' || phase === 'Deleted' || phase === 'Failed') && t.lostAtMs === undefined) {
      t.lostAtMs = now;
      this.lost.push({ name: t.name, atMs: now, matched: false });
      if (this.killFault) this.journal.record({ source: 'fault', type: 'replica.killed', target: t.name, fault: this.killFault, detail: { by: 'chaos-mesh', signal: 'SIGKILL' } });
    }
    if (replicaPhase(phase) === 'Terminated' && replicaPhase(from ?? 'Pending') !== 'Terminated') this.journal.record({ source: 'platform', type: 'replica.exited', target: t.name, detail: { phase } });
  }

  /** Pods as the Deployment interface reports replicas (the live ones). */
  statuses(): ReplicaStatus[] {
    return [...this.pods.values()]
      .filter((t) => t.lostAtMs === undefined)
      .map((t) => ({ name: t.name, ready: t.phase === 'Ready', phase: replicaPhase(t.phase), startedAtMs: t.seenAtMs, ...(t.readyAtMs !== undefined ? { readyAtMs: t.readyAtMs } : {}), ...(t.replaces ? { replaces: t.replaces } : {}) }));
  }

  readyPods(): PodView[] {
    return [...this.pods.values()].filter((t) => t.phase === 'Ready').map((t) => t.pod);
  }

  isReady(name: string): boolean {
    return this.pods.get(name)?.phase === 'Ready';
  }

  /**
   * Resolves once `count` pods are Ready; on timeout, rejects naming every pod that is not and why
   * (ImagePullBackOff, CrashLoopBackOff, Unschedulable, a failing readiness probe), or that no pod
   * exists at all.
   */
  async waitReady(count: number, timeoutMs: number, signal: AbortSignal, what: string): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.readyPods().length < count) {
      signal.throwIfAborted();
      if (this.failure) throw this.failure;
      const left = deadline - this.clock.now();
      if (left <= 0) throw new Error(this.describeNotReady(count, timeoutMs, what));
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        signal.addEventListener('abort', done, { once: true });
        this.waiters.add(done);
      });
    }
  }

  describeNotReady(count: number, timeoutMs: number, what: string): string {
    const live = [...this.pods.values()].filter((t) => t.lostAtMs === undefined);
    const ready = live.filter((t) => t.phase === 'Ready').length;
    const head = `${what}: ${ready} of ${count} pods Ready after ${Math.round(timeoutMs / 1000)}s`;
    if (live.length === 0) return `${head}; no pod matches ${this.selector} (is the ReplicaSet failing to create them? kubectl describe replicaset -l ${this.selector})`;
    const lines = live.filter((t) => t.phase !== 'Ready').map((t) => problemOf(t.pod) ?? `pod ${t.name} is ${t.phase}`);
    return `${head}: ${lines.join('; ')}`;
  }
}
