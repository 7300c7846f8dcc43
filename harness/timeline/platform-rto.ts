import type { JournalEvent } from '../core/journal.js';

/** One killed replica and the replica that replaced it. */
export interface ReplicaRecovery {
  replica: string;
  killedAtMs: number;
  /** The replica whose `replica.ready` named this one in `detail.replaces`; null if none did. */
  replacement: string | null;
  readyAtMs: number | null;
  rtoMs: number | null;
}

export interface PlatformRto {
  fault: string;
  /** Max over killed replicas of (replacement ready − killed); null when one was never replaced, or none was killed. */
  rtoMs: number | null;
  recovered: boolean;
  replicas: ReplicaRecovery[];
  reason?: string;
}

/** Journal events by which a fault takes a replica out: killed outright, or broken by a connection leak. */
const REPLICA_LOST: readonly string[] = ['replica.killed', 'pool.leaked'];
const READY = 'replica.ready';

/**
 * Platform-side RTO from the journal: `replica.killed` (target = replica, fault = fault name) and
 * `replica.ready` (detail.replaces = the killed replica). Each kill is matched with the first
 * ready event at or after it that replaces that replica and was not already matched, so a name
 * killed twice is matched twice in order. A fault that killed nothing is reported as not recovered
 * (there is nothing to measure, and a Game Day whose fault did not happen must not pass).
 */
export function platformRtoMs(events: readonly JournalEvent[], fault: string): PlatformRto {
  const sorted = [...events].sort((a, b) => a.atMs - b.atMs);
  const kills = sorted.filter((e) => REPLICA_LOST.includes(e.type) && e.fault === fault && e.target !== undefined);
  const readies = sorted.filter((e) => e.type === READY);
  const used = new Set<JournalEvent>();
  const replicas = kills.map((kill) => matchReplacement(kill, readies, used));
  if (replicas.length === 0) return { fault, rtoMs: null, recovered: false, replicas, reason: 'the fault killed no replica' };
  const missing = replicas.filter((r) => r.rtoMs === null);
  if (missing.length > 0) {
    const names = missing.map((r) => r.replica).join(', ');
    return { fault, rtoMs: null, recovered: false, replicas, reason: `not recovered: no ready replacement for ${names}` };
  }
  const rtoMs = Math.max(...replicas.map((r) => r.rtoMs ?? 0));
  return { fault, rtoMs, recovered: true, replicas };
}

function matchReplacement(kill: JournalEvent, readies: readonly JournalEvent[], used: Set<JournalEvent>): ReplicaRecovery {
  const replica = kill.target ?? '';
  const ready = readies.find((e) => !used.has(e) && e.atMs >= kill.atMs && e.detail?.['replaces'] === replica);
  if (ready) used.add(ready);
  return {
    replica,
    killedAtMs: kill.atMs,
    replacement: ready ? (ready.target ?? null) : null,
    readyAtMs: ready ? ready.atMs : null,
    rtoMs: ready ? ready.atMs - kill.atMs : null,
  };
}
