// The object store: one cluster-wide resourceVersion counter, a bounded event history for watches from
// a resourceVersion (older ones get 410 Expired), finalizers/deletionTimestamp, owner-reference garbage
// collection and namespace termination.
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceDef } from './resources.js';
import { errors } from './status.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  resource: ResourceDef;
  object: KubeObject;
  /** The object before the change (MODIFIED/DELETED). */
  old?: KubeObject;
}

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: Propagation;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Who finishes a graceful deletion (the simulated kubelet for pods); returns true when it takes it over. */
export type GracefulDeleter = (res: ResourceDef, obj: KubeObject, opts: DeleteOptions) => boolean;

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** JSON with sorted keys, to compare objects whatever the order their fields came in. */
export function stableStringify(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function clone<T>(x: T): T {
  return structuredClone(x);
}

export class Store {
  private rv = 100;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  /** Events at or below this resourceVersion are no longer replayable. */
  private compactedRv = 100;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  gracefulDeleter: GracefulDeleter | undefined;
  private closed = false;

  constructor(
    readonly resources: ResourceDef[],
    private readonly historyLimit = 10_000,
  ) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can start from without 410. */
  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  /** Stops the background loops (namespace termination). */
  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  /** Forgets the event history: every watch from an older resourceVersion now gets 410 Expired. */
  compact(): void {
    this.history.length = 0;
    this.compactedRv = this.rv;
  }

  resource(group: string, plural: string): ResourceDef {
    const r = this.resources.find((x) => x.group === group && x.plural === plural);
    if (r === undefined) throw new Error(`no resource ${plural}.${group}`);
    return r;
  }

  resourceForKind(apiVersion: string, kind: string): ResourceDef | undefined {
    return this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  eventsSince(rv: number): StoreEvent[] {
    return this.history.filter((e) => e.rv > rv);
  }

  private bucket(r: ResourceDef): Map<string, KubeObject> {
    const k = `${r.group}/${r.plural}`;
    let b = this.objects.get(k);
    if (b === undefined) this.objects.set(k, (b = new Map()));
    return b;
  }

  private static key(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }

  private emit(type: EventType, r: ResourceDef, obj: KubeObject, old?: KubeObject): void {
    const e: StoreEvent = { type, rv: Number(obj.metadata.resourceVersion), resource: r, object: obj };
    if (old !== undefined) e.old = old;
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const l of [...this.listeners]) l(e);
  }

  get(r: ResourceDef, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(r).get(Store.key(r.namespaced ? ns : undefined, name));
    return o === undefined ? undefined : clone(o);
  }

  mustGet(r: ResourceDef, ns: string | undefined, name: string): KubeObject {
    const o = this.get(r, ns, name);
    if (o === undefined) throw errors.notFound(r, name);
    return o;
  }

  list(r: ResourceDef, ns?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(r).values()) if (!r.namespaced || ns === undefined || o.metadata.namespace === ns) out.push(clone(o));
    // The apiserver lists in key order: namespace, then name.
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /** Every stored object of every resource (for assertions and namespace cleanup). */
  all(): { resource: ResourceDef; object: KubeObject }[] {
    const out: { resource: ResourceDef; object: KubeObject }[] = [];
    for (const r of this.resources) for (const o of this.bucket(r).values()) out.push({ resource: r, object: clone(o) });
    return out;
  }

  findByUid(uid: string): { resource: ResourceDef; object: KubeObject } | undefined {
    for (const r of this.resources) for (const o of this.bucket(r).values()) if (o.metadata.uid === uid) return { resource: r, object: clone(o) };
    return undefined;
  }

  create(r: ResourceDef, input: KubeObject): KubeObject {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    const md = (obj.metadata ??= { name: '' });
    if (!r.namespaced) delete md.namespace;
    if ((md.name ?? '') === '' && md.generateName !== undefined) {
      for (let i = 0; i < 10 && (md.name ?? '') === ''; i++) {
        const candidate = `${md.generateName}${randomSuffix()}`;
        if (!this.bucket(r).has(Store.key(md.namespace, candidate))) md.name = candidate;
      }
    }
    if (r.namespaced && md.namespace !== undefined && r.plural !== 'namespaces') {
      const ns = this.get(this.resource('', 'namespaces'), undefined, md.namespace);
      if (ns === undefined) throw errors.notFound(this.resource('', 'namespaces'), md.namespace);
      if (ns.metadata.deletionTimestamp !== undefined) throw errors.namespaceTerminating(r, md.name, md.namespace);
    }
    const key = Store.key(md.namespace, md.name);
    if (this.bucket(r).has(key)) throw errors.alreadyExists(r, md.name);
    md.uid = randomUUID();
    md.creationTimestamp = now();
    md.generation = 1;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    md.resourceVersion = String(++this.rv);
    this.bucket(r).set(key, obj);
    this.emit('ADDED', r, clone(obj));
    return clone(obj);
  }

  /**
   * Replaces an object. With a resourceVersion in `next` it must match (409 Conflict otherwise).
   * `internal` (controllers) writes spec and status at once; `subresource: 'status'` only the status.
   * Removing the last finalizer of an object being deleted removes it.
   */
  update(r: ResourceDef, next: KubeObject, opts: { subresource?: string; internal?: boolean } = {}): KubeObject {
    const md = next.metadata;
    const key = Store.key(r.namespaced ? md.namespace : undefined, md.name);
    const cur = this.bucket(r).get(key);
    if (cur === undefined) throw errors.notFound(r, md.name);
    if (md.resourceVersion !== undefined && md.resourceVersion !== '' && md.resourceVersion !== cur.metadata.resourceVersion) throw errors.conflict(r, md.name);
    let obj: KubeObject;
    if (opts.subresource === 'status') {
      // The status subresource changes only status.
      obj = clone(cur);
      if (next.status !== undefined) obj.status = clone(next.status);
      else delete obj.status;
    } else {
      obj = clone(next);
      obj.apiVersion = apiVersionOf(r);
      obj.kind = r.kind;
      // Fields the client cannot change.
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace'] as const) {
        if (cur.metadata[f] === undefined) delete obj.metadata[f];
        else (obj.metadata as Record<string, unknown>)[f] = cur.metadata[f];
      }
      if (r.subresources.includes('status') && opts.internal !== true) {
        if (cur.status === undefined) delete obj.status;
        else obj.status = clone(cur.status);
      }
      if (opts.internal !== true && JSON.stringify(cur.spec) !== JSON.stringify(obj.spec)) obj.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      if (cur.metadata.deletionTimestamp !== undefined) {
        const before = new Set(cur.metadata.finalizers ?? []);
        const added = (obj.metadata.finalizers ?? []).filter((f) => !before.has(f));
        if (added.length > 0) {
          throw errors.invalid(r.kind, r.group, md.name, [
            { reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ' + JSON.stringify(added), field: 'metadata.finalizers' },
          ]);
        }
      }
    }
    if ((obj.metadata.finalizers ?? []).length === 0) delete obj.metadata.finalizers;
    const probe = clone(obj);
    probe.metadata.resourceVersion = cur.metadata.resourceVersion;
    if (stableStringify(probe) === stableStringify(cur)) {
      return clone(cur); // a no-op update does not bump the resourceVersion
    }
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(r).set(key, obj);
    this.emit('MODIFIED', r, clone(obj), clone(cur));
    if (obj.metadata.deletionTimestamp !== undefined && obj.metadata.finalizers === undefined && !this.pendingGraceful.has(obj.metadata.uid!)) {
      this.remove(r, obj);
    }
    return clone(obj);
  }

  /** Objects whose graceful deletion someone else (the kubelet) finishes; finalizers alone don't hold them. */
  private readonly pendingGraceful = new Set<string>();

  /**
   * Deletes an object: gone at once when nothing holds it; otherwise deletionTimestamp is set and it goes
   * when its finalizers are cleared (and, for a pod, when the kubelet has stopped it).
   * Returns the object and whether it is gone.
   */
  delete(r: ResourceDef, ns: string | undefined, name: string, opts: DeleteOptions = {}): { object: KubeObject; gone: boolean } {
    const key = Store.key(r.namespaced ? ns : undefined, name);
    const cur = this.bucket(r).get(key);
    if (cur === undefined) throw errors.notFound(r, name);
    if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== cur.metadata.uid) {
      throw errors.custom(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${cur.metadata.uid}`, { name, kind: r.plural });
    }
    if (opts.preconditions?.resourceVersion !== undefined && opts.preconditions.resourceVersion !== cur.metadata.resourceVersion) {
      throw errors.conflict(r, name);
    }
    // batch/v1 Jobs keep their legacy default (orphan the pods); everything else goes in the background.
    const propagation = opts.propagationPolicy ?? (r.group === 'batch' && r.plural === 'jobs' ? 'Orphan' : 'Background');
    if (propagation === 'Orphan') this.orphan.add(cur.metadata.uid!);
    if (r.plural === 'namespaces') {
      if (cur.metadata.deletionTimestamp === undefined) {
        const next = clone(cur);
        next.metadata.deletionTimestamp = now();
        next.spec = { ...(next.spec ?? {}), finalizers: ['kubernetes'] };
        next.status = { ...(next.status ?? {}), phase: 'Terminating' };
        next.metadata.resourceVersion = String(++this.rv);
        this.bucket(r).set(key, next);
        this.emit('MODIFIED', r, clone(next), clone(cur));
        setImmediate(() => this.terminateNamespace(name));
        return { object: clone(next), gone: false };
      }
      return { object: clone(cur), gone: false };
    }
    if (cur.metadata.deletionTimestamp !== undefined && opts.gracePeriodSeconds === 0 && this.pendingGraceful.delete(cur.metadata.uid!)) {
      // A forced delete of an object already terminating: it goes now (unless finalizers hold it).
      if ((cur.metadata.finalizers ?? []).length === 0) return { object: this.remove(r, cur), gone: true };
      return { object: clone(cur), gone: false };
    }
    if (propagation === 'Foreground' && cur.metadata.deletionTimestamp === undefined && this.dependentsOf(cur.metadata.uid!).length > 0) {
      // Foreground: the owner stays (finalizer foregroundDeletion) until its dependents are gone.
      const next = clone(cur);
      next.metadata.deletionTimestamp = now();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.finalizers = [...(next.metadata.finalizers ?? []), 'foregroundDeletion'];
      next.metadata.resourceVersion = String(++this.rv);
      this.bucket(r).set(key, next);
      this.emit('MODIFIED', r, clone(next), clone(cur));
      this.foreground.set(cur.metadata.uid!, r);
      for (const d of this.dependentsOf(cur.metadata.uid!)) {
        try {
          this.delete(d.resource, d.object.metadata.namespace, d.object.metadata.name, { propagationPolicy: 'Foreground' });
        } catch {
          // gone meanwhile
        }
      }
      return { object: clone(next), gone: false };
    }
    const graceful = this.gracefulDeleter !== undefined && cur.metadata.deletionTimestamp === undefined && this.gracefulDeleter(r, clone(cur), opts);
    if (graceful) this.pendingGraceful.add(cur.metadata.uid!);
    if ((cur.metadata.finalizers ?? []).length === 0 && !graceful && !this.pendingGraceful.has(cur.metadata.uid!)) {
      return { object: this.remove(r, cur), gone: true };
    }
    if (cur.metadata.deletionTimestamp !== undefined) return { object: clone(cur), gone: false };
    const next = clone(cur);
    next.metadata.deletionTimestamp = now();
    next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? 0;
    next.metadata.resourceVersion = String(++this.rv);
    this.bucket(r).set(key, next);
    this.emit('MODIFIED', r, clone(next), clone(cur));
    return { object: clone(next), gone: false };
  }

  /** The kubelet's side of a graceful deletion: the pod is stopped; it goes once its finalizers are cleared. */
  finishGraceful(r: ResourceDef, ns: string | undefined, name: string, uid: string): void {
    this.pendingGraceful.delete(uid);
    const cur = this.bucket(r).get(Store.key(r.namespaced ? ns : undefined, name));
    if (cur === undefined || cur.metadata.uid !== uid) return;
    if ((cur.metadata.finalizers ?? []).length === 0) this.remove(r, cur);
  }

  private readonly orphan = new Set<string>();
  /** Owners deleted in the foreground, waiting for their dependents: uid → resource. */
  private readonly foreground = new Map<string, ResourceDef>();

  private dependentsOf(uid: string): { resource: ResourceDef; object: KubeObject }[] {
    return this.all().filter((x) => (x.object.metadata.ownerReferences ?? []).some((o) => o.uid === uid));
  }

  /** Releases foreground owners whose dependents are all gone. */
  private settleForeground(): void {
    for (const [uid, r] of [...this.foreground]) {
      if (this.dependentsOf(uid).length > 0) continue;
      this.foreground.delete(uid);
      const owner = this.findByUid(uid);
      if (owner === undefined) continue;
      const next = owner.object;
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
      delete next.metadata.resourceVersion;
      try {
        this.update(r, next, { internal: true });
      } catch {
        // changed meanwhile: the next removal settles it
      }
    }
  }

  private remove(r: ResourceDef, cur: KubeObject): KubeObject {
    const key = Store.key(r.namespaced ? cur.metadata.namespace : undefined, cur.metadata.name);
    if (this.bucket(r).get(key)?.metadata.uid !== cur.metadata.uid) return clone(cur);
    this.bucket(r).delete(key);
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', r, clone(gone), clone(cur));
    setImmediate(() => {
      if (this.closed) return;
      this.collectDependents(cur.metadata.uid!);
      this.settleForeground();
    });
    return gone;
  }

  /** The garbage collector: dependents of a removed owner go too (background), or lose the reference (orphan). */
  private collectDependents(uid: string): void {
    const orphan = this.orphan.delete(uid);
    for (const { resource, object } of this.all()) {
      const refs = object.metadata.ownerReferences ?? [];
      if (!refs.some((o) => o.uid === uid)) continue;
      const rest = refs.filter((o) => o.uid !== uid);
      if (orphan || rest.length > 0) {
        const next = clone(object);
        if (rest.length > 0) next.metadata.ownerReferences = rest;
        else delete next.metadata.ownerReferences;
        try {
          this.update(resource, next);
        } catch {
          // changed or gone meanwhile: nothing to orphan
        }
        continue;
      }
      try {
        this.delete(resource, object.metadata.namespace, object.metadata.name, { propagationPolicy: 'Background' });
      } catch {
        // already gone
      }
    }
  }

  /** The namespace controller: deletes the content, then the namespace once nothing is left in it. */
  private terminateNamespace(name: string, attempt = 0): void {
    const nsRes = this.resource('', 'namespaces');
    const ns = this.bucket(nsRes).get(Store.key(undefined, name));
    if (this.closed || ns === undefined || ns.metadata.deletionTimestamp === undefined) return;
    const content = this.all().filter((x) => x.resource.namespaced && x.object.metadata.namespace === name);
    for (const { resource, object } of content) {
      if (object.metadata.deletionTimestamp !== undefined) continue;
      try {
        this.delete(resource, name, object.metadata.name, {});
      } catch {
        // gone meanwhile
      }
    }
    if (this.all().some((x) => x.resource.namespaced && x.object.metadata.namespace === name)) {
      // Content held by finalizers keeps the namespace Terminating, as on a real cluster.
      if (attempt < 100_000) setTimeout(() => this.terminateNamespace(name, attempt + 1), 20).unref();
      return;
    }
    this.remove(nsRes, ns);
  }
}
