// A simulated Chaos Mesh controller for PodChaos and NetworkChaos: the `chaos-mesh/records` finalizer,
// target selection per mode, pod-kill by deleting the pods, status.experiment records and the
// conditions Chaos Mesh derives from them (Selected = some record; AllInjected / AllRecovered = every
// record Injected / Not Injected, so both are True while nothing is selected; Paused from the
// `experiment.chaos-mesh.org/pause` annotation), recovery when the duration ends or the object goes.
import { matchesLabelSelectorObject } from './selectors.js';
import { now, type KubeObject, type Store, type StoreEvent } from './store.js';
import type { ResourceDef } from './resources.js';
import { errors } from './status.js';

export const CHAOS_FINALIZER = 'chaos-mesh/records';
const PAUSE = 'experiment.chaos-mesh.org/pause';

interface Selector {
  namespaces?: string[];
  labelSelectors?: Record<string, string>;
  expressionSelectors?: { key: string; operator: string; values?: string[] }[];
  annotationSelectors?: Record<string, string>;
  fieldSelectors?: Record<string, string>;
  podPhaseSelectors?: string[];
  pods?: Record<string, string[]>;
}

interface ChaosSpec {
  action: string;
  mode: string;
  value?: string;
  duration?: string;
  gracePeriod?: number;
  selector: Selector;
  target?: { mode: string; value?: string; selector: Selector };
  delay?: { latency?: string; jitter?: string; correlation?: string };
  direction?: string;
}

interface Record_ {
  id: string;
  selectorKey: string;
  phase: 'Injected' | 'Not Injected';
  injectedCount: number;
  recoveredCount: number;
  events: { type: string; operation: string; timestamp: string; message?: string }[];
}

/** What the controller did, for assertions (and for a test to hook a real network delay to). */
export interface ChaosAction {
  at: number;
  kind: string;
  namespace: string;
  name: string;
  action: string;
  operation: 'Apply' | 'Recover';
  /** `namespace/name` of the pods acted on (for NetworkChaos: the source pods). */
  pods: string[];
  /** NetworkChaos: the target pods of `direction: to`. */
  targets?: string[];
}

/** Go's time.ParseDuration: "30s", "1m30s", "500ms", "1.5h". */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === s.length && s.length > 0 ? total : undefined;
}

/** Chaos Mesh's admission webhook checks that the schema cannot express (mode/value, duration). */
export function admitChaos(r: ResourceDef, obj: KubeObject): void {
  const spec = (obj.spec ?? {}) as Partial<ChaosSpec>;
  const deny = (msg: string): never => {
    throw errors.custom(403, 'Forbidden', `admission webhook "v${r.singular}.kb.io" denied the request: ${msg}`, {});
  };
  const checkMode = (path: string, mode: string | undefined, value: string | undefined): void => {
    if (mode === 'fixed' || mode === 'fixed-percent' || mode === 'random-max-percent') {
      if (value === undefined || value === '') deny(`${path}.value: Invalid value: "": value is required in mode ${mode}`);
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) deny(`${path}.value: Invalid value: "${value}": value must be a positive integer`);
      if (mode !== 'fixed' && n > 100) deny(`${path}.value: Invalid value: "${value}": value of ${mode} must be between 1 and 100`);
    }
  };
  checkMode('spec', spec.mode, spec.value);
  if (spec.target !== undefined) checkMode('spec.target', spec.target.mode, spec.target.value);
  if (spec.duration !== undefined && parseGoDuration(spec.duration) === undefined) deny(`spec.duration: Invalid value: "${spec.duration}": time: invalid duration "${spec.duration}"`);
  if (r.plural === 'networkchaos' && spec.action === 'delay' && spec.delay?.latency !== undefined && parseGoDuration(spec.delay.latency) === undefined) {
    deny(`spec.delay.latency: Invalid value: "${spec.delay.latency}": time: invalid duration "${spec.delay.latency}"`);
  }
}

export class ChaosMesh {
  /** Delay between the object's creation and the injection. */
  injectDelayMs = 0;
  /** Delay between the object's deletion and the finalizer's removal. */
  recoverDelayMs = 0;
  /** false: the controller is down (nothing injected, finalizers stay, as with a crashed chaos-controller-manager). */
  running = true;
  /** How often a selection that found no pod is retried. */
  retryMs = 100;
  readonly actions: ChaosAction[] = [];
  /**
   * Makes the injection into a pod fail (the message, e.g. a chaos-daemon error) or succeed
   * (undefined). A failed record stays "Not Injected" (AllInjected False) and is retried every
   * `retryMs` while the hook keeps failing it, as Chaos Mesh requeues it.
   */
  failApply: ((chaos: KubeObject, podId: string) => string | undefined) | undefined;
  /** Called on NetworkChaos apply/recover, e.g. to turn a real proxy delay on and off. */
  onNetworkChaos: ((op: 'Apply' | 'Recover', chaos: KubeObject, action: ChaosAction) => void | Promise<void>) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  /** When each chaos object (by uid) was first injected. */
  private readonly started = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly store: Store) {
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
  }

  /** Starts or stops the controller; started again, it catches up with every chaos object. */
  setRunning(running: boolean): void {
    this.running = running;
    if (running) for (const r of this.kinds()) for (const o of this.store.list(r)) this.schedule(r, o, 0);
  }

  private kinds(): ResourceDef[] {
    return this.store.resources.filter((r) => r.group === 'chaos-mesh.org' && (r.plural === 'podchaos' || r.plural === 'networkchaos'));
  }

  private onEvent(e: StoreEvent): void {
    if (this.closed || e.resource.group !== 'chaos-mesh.org') return;
    if (e.type === 'DELETED') {
      this.started.delete(e.object.metadata.uid!);
      return;
    }
    if (e.resource.plural !== 'podchaos' && e.resource.plural !== 'networkchaos') return;
    this.schedule(e.resource, e.object, e.type === 'ADDED' ? this.injectDelayMs : 0);
  }

  private schedule(r: ResourceDef, o: KubeObject, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed && this.running) void this.reconcile(r, o.metadata.namespace!, o.metadata.name);
    }, ms);
    this.timers.add(t);
  }

  private write(r: ResourceDef, obj: KubeObject): void {
    delete obj.metadata.resourceVersion;
    this.store.update(r, obj, { internal: true });
  }

  private async reconcile(r: ResourceDef, ns: string, name: string): Promise<void> {
    const key = `${r.plural}/${ns}/${name}`;
    if (this.busy.has(key)) {
      // One pass at a time per object; a change seen meanwhile gets one more pass after it.
      this.again.add(key);
      return;
    }
    this.busy.add(key);
    try {
      await this.step(r, ns, name);
    } catch {
      // the object changed under us: the event that changed it schedules another pass
    } finally {
      this.busy.delete(key);
      if (this.again.delete(key)) this.schedule(r, { metadata: { name, namespace: ns } } as KubeObject, 0);
    }
  }

  private async step(r: ResourceDef, ns: string, name: string): Promise<void> {
    const obj = this.store.get(r, ns, name);
    if (obj === undefined) return;
    const spec = obj.spec as unknown as ChaosSpec;
    const status = (obj.status ?? {}) as { experiment?: { desiredPhase?: string; containerRecords?: Record_[] }; conditions?: unknown[] };
    const records = status.experiment?.containerRecords ?? [];
    const paused = obj.metadata.annotations?.[PAUSE] === 'true';
    if (obj.metadata.deletionTimestamp !== undefined) {
      if (!(obj.metadata.finalizers ?? []).includes(CHAOS_FINALIZER)) return;
      if (records.some((x) => x.phase === 'Injected')) {
        await this.recover(r, obj, records);
        this.setStatus(obj, 'Stop', records, paused);
        this.write(r, obj);
      }
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          this.timers.delete(t);
          res();
        }, this.recoverDelayMs);
        this.timers.add(t);
      });
      if (this.closed || !this.running) return;
      const cur = this.store.get(r, ns, name);
      if (cur === undefined) return;
      cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== CHAOS_FINALIZER);
      this.write(r, cur);
      return;
    }
    if (!(obj.metadata.finalizers ?? []).includes(CHAOS_FINALIZER)) {
      obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), CHAOS_FINALIZER];
      this.setStatus(obj, 'Run', [], paused);
      this.write(r, obj);
      this.event(obj, 'Normal', 'FinalizerInited', 'Finalizer has been inited');
      return; // the MODIFIED event brings us back
    }
    const durationMs = spec.duration === undefined ? undefined : parseGoDuration(spec.duration);
    // The duration runs from the first injection (creationTimestamp has only second precision).
    const startedAt = this.started.get(obj.metadata.uid!) ?? Date.now();
    const expired = durationMs !== undefined && Date.now() >= startedAt + durationMs;
    const desired = expired || paused ? 'Stop' : 'Run';
    const phase = status.experiment?.desiredPhase ?? 'Run';
    if (desired === 'Run') {
      if (records.length === 0 || phase === 'Stop') {
        // First injection, a retry when nothing was selected, or a resume after a pause.
        if (!this.started.has(obj.metadata.uid!)) this.started.set(obj.metadata.uid!, startedAt);
        const applied = await this.apply(r, obj, spec);
        this.setStatus(obj, 'Run', applied, paused);
        this.write(r, obj);
        if (applied.length === 0 || applied.some((x) => x.phase === 'Not Injected')) this.schedule(r, obj, this.retryMs);
      } else if (records.some((x) => x.phase === 'Not Injected')) {
        const stillFailing = this.retryFailed(r, obj, spec, records);
        this.setStatus(obj, 'Run', records, paused);
        this.write(r, obj);
        if (stillFailing) this.schedule(r, obj, this.retryMs);
      }
      if (durationMs !== undefined) this.schedule(r, obj, Math.max(0, startedAt + durationMs - Date.now()));
      return;
    }
    if (phase !== 'Stop') {
      if (expired) this.event(obj, 'Normal', 'TimeUp', 'Time up according to the duration');
      await this.recover(r, obj, records);
      this.setStatus(obj, 'Stop', records, paused);
      this.write(r, obj);
    }
  }

  /** The conditions Chaos Mesh's condition reconciler derives from the records. */
  private setStatus(obj: KubeObject, desiredPhase: 'Run' | 'Stop', records: Record_[], paused: boolean): void {
    const all = (phase: string): string => (records.every((x) => x.phase === phase) ? 'True' : 'False');
    obj.status = {
      conditions: [
        { type: 'Selected', status: records.length > 0 ? 'True' : 'False' },
        { type: 'AllInjected', status: all('Injected') },
        { type: 'AllRecovered', status: all('Not Injected') },
        { type: 'Paused', status: paused ? 'True' : 'False' },
      ],
      experiment: { desiredPhase, ...(records.length > 0 ? { containerRecords: records } : {}) },
    };
  }

  private select(chaosNs: string, selector: Selector, mode: string, value: string | undefined): KubeObject[] {
    const pods = this.store.resource('', 'pods');
    let candidates: KubeObject[];
    if (selector.pods !== undefined) {
      candidates = Object.entries(selector.pods).flatMap(([ns, names]) => names.map((n) => this.store.get(pods, ns, n)).filter((p): p is KubeObject => p !== undefined));
    } else {
      const namespaces = selector.namespaces ?? [chaosNs];
      candidates = namespaces.flatMap((ns) => this.store.list(pods, ns));
      candidates = candidates.filter((p) =>
        matchesLabelSelectorObject({ matchLabels: selector.labelSelectors ?? {}, matchExpressions: selector.expressionSelectors ?? [] }, p.metadata.labels),
      );
      for (const [k, v] of Object.entries(selector.annotationSelectors ?? {})) candidates = candidates.filter((p) => p.metadata.annotations?.[k] === v);
      for (const [k, v] of Object.entries(selector.fieldSelectors ?? {})) {
        candidates = candidates.filter((p) => (k === 'metadata.name' ? p.metadata.name === v : k === 'spec.nodeName' ? p.spec?.nodeName === v : k === 'status.phase' ? (p.status as { phase?: string })?.phase === v : true));
      }
    }
    candidates = candidates.filter((p) => p.metadata.deletionTimestamp === undefined);
    if (selector.podPhaseSelectors !== undefined && selector.podPhaseSelectors.length > 0) {
      candidates = candidates.filter((p) => selector.podPhaseSelectors!.includes((p.status as { phase?: string })?.phase ?? ''));
    }
    const shuffled = [...candidates].sort(() => Math.random() - 0.5);
    const n = Number(value ?? '0');
    switch (mode) {
      case 'one':
        return shuffled.slice(0, 1);
      case 'all':
        return shuffled;
      case 'fixed':
        return shuffled.slice(0, Math.min(n, shuffled.length));
      case 'fixed-percent':
        return shuffled.slice(0, Math.floor((shuffled.length * n) / 100));
      case 'random-max-percent':
        return shuffled.slice(0, Math.floor((shuffled.length * Math.floor(Math.random() * (n + 1))) / 100));
      default:
        return [];
    }
  }

  private async apply(r: ResourceDef, obj: KubeObject, spec: ChaosSpec): Promise<Record_[]> {
    const ns = obj.metadata.namespace!;
    const chosen = this.select(ns, spec.selector ?? {}, spec.mode, spec.value);
    const at = now();
    const ids = chosen.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    const action: ChaosAction = { at: Date.now(), kind: r.kind, namespace: ns, name: obj.metadata.name, action: spec.action, operation: 'Apply', pods: ids };
    const failures = new Map<string, string>();
    for (const id of ids) {
      const f = this.failApply?.(obj, id);
      if (f !== undefined) failures.set(id, f);
    }
    if (r.plural === 'podchaos' && spec.action === 'pod-kill') for (const id of ids) if (!failures.has(id)) this.kill(id, spec);
    let targets: string[] = [];
    if (r.plural === 'networkchaos') {
      if (spec.target !== undefined) {
        targets = this.select(ns, spec.target.selector ?? {}, spec.target.mode, spec.target.value).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
        action.targets = targets;
      }
      await this.onNetworkChaos?.('Apply', obj, action);
    }
    if (ids.length > 0) this.actions.push(action);
    // NetworkChaos keeps a record per target pod too, under the ".Target" selector key.
    const keyed = [...ids.map((id) => ({ id, key: '.' })), ...(ids.length > 0 ? targets.map((id) => ({ id, key: '.Target' })) : [])];
    const out: Record_[] = keyed.map(({ id, key }) => {
      const failed = key === '.' ? failures.get(id) : undefined;
      return failed === undefined
        ? { id, selectorKey: key, phase: 'Injected', injectedCount: 1, recoveredCount: 0, events: [{ type: 'Succeeded', operation: 'Apply', timestamp: at }] }
        : { id, selectorKey: key, phase: 'Not Injected', injectedCount: 0, recoveredCount: 0, events: [{ type: 'Failed', operation: 'Apply', timestamp: at, message: failed }] };
    });
    for (const x of out) {
      if (x.phase === 'Injected') this.event(obj, 'Normal', 'Applied', `Successfully apply chaos for ${x.id}`);
      else this.event(obj, 'Warning', 'Failed', `Failed to apply chaos: ${x.events[0]!.message ?? ''}`);
    }
    return out;
  }

  private kill(id: string, spec: ChaosSpec): void {
    const [ns, name] = id.split('/') as [string, string];
    try {
      this.store.delete(this.store.resource('', 'pods'), ns, name, { gracePeriodSeconds: spec.gracePeriod ?? 0 });
    } catch {
      // already gone
    }
  }

  /** Retries the records whose injection failed; true when some still fail. */
  private retryFailed(r: ResourceDef, obj: KubeObject, spec: ChaosSpec, records: Record_[]): boolean {
    let failing = false;
    for (const x of records) {
      if (x.phase !== 'Not Injected' || x.selectorKey !== '.' || x.events[x.events.length - 1]?.type !== 'Failed') continue;
      const f = this.failApply?.(obj, x.id);
      const at = now();
      if (f !== undefined) {
        failing = true;
        continue;
      }
      if (r.plural === 'podchaos' && spec.action === 'pod-kill') this.kill(x.id, spec);
      x.phase = 'Injected';
      x.injectedCount++;
      x.events.push({ type: 'Succeeded', operation: 'Apply', timestamp: at });
      this.event(obj, 'Normal', 'Applied', `Successfully apply chaos for ${x.id}`);
    }
    return failing;
  }

  /** A core/v1 Event about the chaos object, as chaos-controller-manager records them. */
  private event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    try {
      this.store.create(this.store.resource('', 'events'), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 6)}`, namespace: obj.metadata.namespace! },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid },
        reason,
        message,
        type,
        source: { component: 'chaos-controller-manager' },
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
      });
    } catch {
      // the namespace is going away
    }
  }

  private async recover(r: ResourceDef, obj: KubeObject, records: Record_[]): Promise<void> {
    const at = now();
    const injected = records.filter((x) => x.phase === 'Injected');
    const action: ChaosAction = {
      at: Date.now(),
      kind: r.kind,
      namespace: obj.metadata.namespace!,
      name: obj.metadata.name,
      action: (obj.spec as unknown as ChaosSpec).action,
      operation: 'Recover',
      pods: injected.filter((x) => x.selectorKey === '.').map((x) => x.id),
    };
    if (r.plural === 'networkchaos') action.targets = injected.filter((x) => x.selectorKey === '.Target').map((x) => x.id);
    if (r.plural === 'networkchaos') await this.onNetworkChaos?.('Recover', obj, action);
    this.actions.push(action);
    for (const x of injected) {
      x.phase = 'Not Injected';
      x.recoveredCount++;
      x.events.push({ type: 'Succeeded', operation: 'Recover', timestamp: at });
      this.event(obj, 'Normal', 'Recovered', `Successfully recover chaos for ${x.id}`);
    }
  }
}
