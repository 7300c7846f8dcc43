import type { Clock } from './clock.js';

/**
 * The incident timeline of a run: what the harness, the platform and the faults did, stamped
 * with the run clock. Every stage writes to it; the timeline and verdict stages read it.
 */
export type JournalSource = 'harness' | 'platform' | 'fault' | 'load';

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
  detail?: Record<string, string | number | boolean | null>;
}

export type JournalInput = Omit<JournalEvent, 'atMs' | 'wallMs'> & { atMs?: number };

export interface EventSink {
  record(event: JournalInput): JournalEvent;
}

export class Journal implements EventSink {
  private readonly list: JournalEvent[] = [];
  private readonly listeners = new Set<(e: JournalEvent) => void>();
  constructor(private readonly clock: Clock) {}

  record(input: JournalInput): JournalEvent {
    const atMs = input.atMs ?? this.clock.now();
    const event: JournalEvent = { ...input, atMs, wallMs: this.clock.wallMs(atMs) };
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
