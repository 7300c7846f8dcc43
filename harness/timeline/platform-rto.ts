import { isEvent, type JournalEvent, type JournalEventType, type ReplicaPhase } from '../core/journal.js';

/** How long a replacement spent in one phase before it was ready. */
export interface PhaseSpan {
  phase: ReplicaPhase;
  /** Run-clock instant it entered the phase. */
  atMs: number;
  /** Time in the phase (until the next phase, or until ready). */
  ms: number;
  /** Why, when the platform said (ImagePullBackOff, CrashLoopBackOff…). */
  reason?: string;
}

/** One killed replica and the replica that replaced it. */
export interface ReplicaRecovery {
  replica: string;
  killedAtMs: number;
  /** The replica that named this one in `replaces` and became ready after the kill; null if none did. */
  replacement: string | null;
  readyAtMs: number | null;
  rtoMs: number | null;
  /** The replacement's phases from its creation until Ready, when the journal has them (absent in older results). */
  phases?: PhaseSpan[];
}

export interface PlatformRto {
  fault: string;
  /** Max over killed replicas of (replacement ready − killed); null when one was never replaced, or none was killed. */
  rtoMs: number | null;
  recovered: boolean;
  replicas: ReplicaRecovery[];
  reason?: string;
}

/**
 * Journal events by which a fault takes a replica out: killed outright, or broken by a connection
 * leak. The verdict passes the fault kinds' own list (faults/kinds); this default matches it.
 */
export const REPLICA_LOST_EVENTS: readonly JournalEventType[] = ['replica.killed', 'pool.leaked'];

/** A replica's lifecycle as read from the journal. */
interface Life {
  name: string;
  replaces: string | null;
  /** Instants it became ready (`replica.ready`, or `replica.phase` Ready): several when it flapped. */
  readyAt: number[];
  /** Phase changes in time order: explicit `replica.phase` events, else implied (see `lives`). */
  phases: Array<{ phase: ReplicaPhase; atMs: number; reason?: string }>;
}

/**
 * Platform-side RTO from the typed journal: a replica lost to the fault (`lostTypes`, target =
 * replica, fault = fault name) is matched with the first replica that `replaces` it and is ready
 * at or after the loss and was not already matched, so a name killed twice is matched twice in
 * order. Ready is `replica.ready` or a `replica.phase` Ready (a pod watch); `replaces` may come
 * from the replacement's `replica.started`, `replica.phase` or `replica.ready`. A fault that
 * killed nothing is reported as not recovered (there is nothing to measure, and a Game Day whose
 * fault did not happen must not pass).
 */
export function platformRtoMs(events: readonly JournalEvent[], fault: string, lostTypes: readonly string[] = REPLICA_LOST_EVENTS): PlatformRto {
  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  const kills = sorted.filter((e) => lostTypes.includes(e.type) && e.fault === fault && e.target !== undefined);
  const candidates = readyReplacements(lives(sorted));
  const used = new Set<(typeof candidates)[number]>();
  const replicas = kills.map((kill) => matchReplacement(kill, candidates, used));
  if (replicas.length === 0) return { fault, rtoMs: null, recovered: false, replicas, reason: 'the fault killed no replica' };
  const missing = replicas.filter((r) => r.rtoMs === null);
  if (missing.length > 0) {
    const names = missing.map((r) => r.replica).join(', ');
    return { fault, rtoMs: null, recovered: false, replicas, reason: `not recovered: no ready replacement for ${names}` };
  }
  const rtoMs = Math.max(...replicas.map((r) => r.rtoMs ?? 0));
  return { fault, rtoMs, recovered: true, replicas };
}

/**
 * Every replica's lifecycle. A replica with `replica.phase` events has exactly those phases; one
 * without (the local platform) has them implied: started → ContainerCreating (its process is
 * starting), listening → Running, ready → Ready.
 */
function lives(sorted: readonly JournalEvent[]): Map<string, Life> {
  const byName = new Map<string, Life>();
  const implied = new Map<string, Life['phases']>();
  const life = (name: string): Life => {
    let l = byName.get(name);
    if (!l) byName.set(name, (l = { name, replaces: null, readyAt: [], phases: [] }));
    return l;
  };
  const imply = (name: string, phase: ReplicaPhase, atMs: number): void => {
    const list = implied.get(name) ?? [];
    list.push({ phase, atMs });
    implied.set(name, list);
  };
  for (const e of sorted) {
    if (e.target === undefined) continue;
    const name = e.target;
    if (isEvent(e, 'replica.started')) {
      life(name).replaces ??= e.detail?.replaces ?? null;
      imply(name, 'ContainerCreating', e.atMs);
    } else if (isEvent(e, 'replica.phase')) {
      const l = life(name);
      l.replaces ??= e.detail?.replaces ?? null;
      const phase = e.detail?.phase;
      if (phase === undefined) continue;
      const reason = e.detail?.reason;
      l.phases.push({ phase, atMs: e.atMs, ...(typeof reason === 'string' && reason !== '' ? { reason } : {}) });
      if (phase === 'Ready') l.readyAt.push(e.atMs);
    } else if (isEvent(e, 'replica.listening')) {
      imply(name, 'Running', e.atMs);
    } else if (isEvent(e, 'replica.ready')) {
      const l = life(name);
      l.replaces ??= e.detail?.replaces ?? null;
      l.readyAt.push(e.atMs);
      imply(name, 'Ready', e.atMs);
    }
  }
  for (const [name, list] of implied) {
    const l = life(name);
    if (l.phases.length === 0) l.phases = list;
  }
  return byName;
}

/** Every instant a replacement became ready, in time order (a `replica.ready` and a Ready phase at the same instant count once). */
function readyReplacements(all: Map<string, Life>): Array<{ life: Life; readyAtMs: number }> {
  const out: Array<{ life: Life; readyAtMs: number }> = [];
  for (const life of all.values()) {
    if (life.replaces === null) continue;
    for (const readyAtMs of new Set(life.readyAt)) out.push({ life, readyAtMs });
  }
  return out.sort((a, b) => a.readyAtMs - b.readyAtMs);
}

function matchReplacement(kill: JournalEvent, candidates: ReadonlyArray<{ life: Life; readyAtMs: number }>, used: Set<{ life: Life; readyAtMs: number }>): ReplicaRecovery {
  const replica = kill.target ?? '';
  const found = candidates.find((c) => !used.has(c) && c.readyAtMs >= kill.atMs && c.life.replaces === replica);
  if (!found) return { replica, killedAtMs: kill.atMs, replacement: null, readyAtMs: null, rtoMs: null };
  used.add(found);
  const phases = phaseSpans(found.life, found.readyAtMs);
  return {
    replica,
    killedAtMs: kill.atMs,
    replacement: found.life.name,
    readyAtMs: found.readyAtMs,
    rtoMs: found.readyAtMs - kill.atMs,
    ...(phases.length > 0 ? { phases } : {}),
  };
}

/** The phases a replacement went through before it was first ready (none when the journal has only its ready event). */
function phaseSpans(life: Life, readyAtMs: number): PhaseSpan[] {
  const before = life.phases.filter((p) => p.atMs <= readyAtMs && p.phase !== 'Ready');
  return before.map((p, i) => {
    const next = before[i + 1]?.atMs ?? readyAtMs;
    return { phase: p.phase, atMs: p.atMs, ms: next - p.atMs, ...(p.reason ? { reason: p.reason } : {}) };
  });
}

/** "task-api-x replaced by task-api-y in 45.0 s: Pending 0.2 s, ContainerCreating 40.1 s, Running 4.7 s". */
export function describeRecovery(r: ReplicaRecovery): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  if (r.replacement === null || r.rtoMs === null) return `${r.replica}: no ready replacement`;
  const phases = (r.phases ?? []).map((p) => `${p.phase}${p.reason ? ` (${p.reason})` : ''} ${s(p.ms)}`).join(', ');
  return `${r.replica} replaced by ${r.replacement} in ${s(r.rtoMs)}${phases ? `: ${phases}` : ''}`;
}
