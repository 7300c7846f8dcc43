import type { Clock } from './clock.js';

/**
 * The incident timeline of a run: what the harness, the platform and the faults did, stamped
 * with the run clock. Every stage writes to it; the timeline and verdict stages read it.
 *
 * The events the analysis depends on are typed (JournalEventTypes): recording one checks its
 * source, target, fault and detail, and `isEvent` narrows a recorded one. Other event types stay
 * free-form (a Record of scalars). result.json stores every event in the same flat shape.
 */
export type JournalSource = 'harness' | 'platform' | 'fault' | 'load';

export type DetailValue = string | number | boolean | null;
export type Detail = Record<string, DetailValue>;

/**
 * A replica's lifecycle phase, as a pod's (see platform/types.ts). `replica.phase` events carry
 * one; the local platform's `replica.started` / `replica.listening` / `replica.ready` imply them.
 */
export type ReplicaPhase = 'Pending' | 'ContainerCreating' | 'Running' | 'Ready' | 'Terminating' | 'Terminated';

/** `detail` with the keys D requires (and any other scalars), or an optional free detail when D is not given. */
export type WithDetail<D> = [D] extends [never] ? { detail?: Detail } : { detail: D & Detail };
/** A replica event: which replica (target). */
export type ReplicaLife<D = never> = { source: 'platform'; target: string } & WithDetail<D>;
/** What a fault did, to which target. */
export type FaultAct<D = never> = { source: 'fault'; target: string; fault: string } & WithDetail<D>;
/** A step of a fault's lifecycle (no target: the fault as a whole). */
export type FaultStep<D = never> = { source: 'fault'; fault: string } & WithDetail<D>;

/**
 * Every typed event: its type → what it must carry. A platform reports replica lifecycle with
 * `replica.started` (created), `replica.phase` (each phase change, stamped when it happened:
 * pass `atMs` for a watch's own timestamp), `replica.ready` / `replica.not-ready` (in and out
 * of the Service) and `replica.exited` (gone). Faults report `fault.*` steps (the schedule) and
 * their per-kind effects, which each fault kind's module (faults/kinds/<kind>.ts) adds here
 * (`declare module … interface JournalEventTypes`) next to the list of those that mark its effect.
 */
export interface JournalEventTypes {
  'replica.started': ReplicaLife<{ replaces: string | null }>;
  'replica.phase': ReplicaLife<{ phase: ReplicaPhase; replaces?: string | null; reason?: string | null }>;
  'replica.listening': ReplicaLife;
  'replica.ready': ReplicaLife<{ replaces: string | null }>;
  'replica.not-ready': ReplicaLife;
  'replica.exited': ReplicaLife;
  'replica.joined-service': ReplicaLife;
  'replica.left-service': ReplicaLife<{ reason: string }>;
  'replica.liveness-failed': ReplicaLife;
  'replica.replacement-limit': ReplicaLife;
  'replica.start-failed': ReplicaLife<{ error: string }>;
  'replica.killed': FaultAct;
  'replica.kill-missed': FaultAct;

  'fault.started': FaultStep<{ kind: string }>;
  'fault.applied': FaultStep<{ targets: number }>;
  'fault.recovered': FaultStep<{ targets: number }>;
  'fault.skipped': FaultStep<{ reason: string }>;
  'fault.apply-failed': FaultStep<{ error: string }>;
  'fault.recover-failed': FaultStep<{ error: string }>;
  'fault.no-targets': FaultStep;
  'fault.snapshot': { source: 'harness'; fault: string; detail: Detail };
}

export type JournalEventType = keyof JournalEventTypes;

export interface JournalEvent {
  /** Milliseconds since the start of the run (the run clock). */
  atMs: number;
  /** Epoch milliseconds of the same instant, for humans. */
  wallMs: number;
  source: JournalSource;
  /** Dotted event type, e.g. `replica.killed`, `replica.ready`, `fault.applied`. */
  type: string;
  /** The replica, pod or connection the event is about. */
  target?: string;
  /** The scenario fault that caused it, when one did. */
  fault?: string;
  detail?: Detail;
}

/** A recorded event of a typed type, with its payload narrowed. */
export type TypedEvent<T extends JournalEventType> = Omit<JournalEvent, 'type' | 'target' | 'fault' | 'detail' | 'source'> & { type: T } & JournalEventTypes[T];

type FreeInput = { source: JournalSource; target?: string; fault?: string; detail?: Detail };
/** What `record` takes for event type T: a typed type's payload, or the free form; `atMs` backdates it (a watch's timestamp). */
export type JournalInput<T extends string = string> = { type: T; atMs?: number } & (T extends JournalEventType ? JournalEventTypes[T] : string extends T ? FreeInput : FreeInput);

export interface EventSink {
  record<T extends string>(event: JournalInput<T>): JournalEvent;
}

/** Narrows an event to a typed type (works on events read back from result.json too). */
export function isEvent<T extends JournalEventType>(e: JournalEvent, type: T): e is JournalEvent & TypedEvent<T> {
  return e.type === type;
}

/** The events of one typed type, in the order given. */
export function eventsOf<T extends JournalEventType>(events: readonly JournalEvent[], type: T): Array<JournalEvent & TypedEvent<T>> {
  return events.filter((e): e is JournalEvent & TypedEvent<T> => isEvent(e, type));
}

export class Journal implements EventSink {
  private readonly list: JournalEvent[] = [];
  private readonly listeners = new Set<(e: JournalEvent) => void>();
  constructor(private readonly clock: Clock) {}

  record<T extends string>(input: JournalInput<T>): JournalEvent {
    const atMs = input.atMs ?? this.clock.now();
    const event = { ...input, atMs, wallMs: this.clock.wallMs(atMs) } as JournalEvent;
    this.list.push(event);
    for (const l of this.listeners) l(event);
    return event;
  }

  /** Events in time order (they may be recorded slightly out of order by concurrent sources). */
  events(): JournalEvent[] {
    return [...this.list].sort((a, b) => a.atMs - b.atMs);
  }

  /** Re-expresses every recorded event against a clock origin moved forward by `deltaMs`. */
  shift(deltaMs: number): void {
    for (const e of this.list) e.atMs -= deltaMs;
  }

  subscribe(listener: (e: JournalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
