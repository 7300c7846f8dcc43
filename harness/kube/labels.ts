import { randomBytes } from 'node:crypto';

/** The label every object a run creates carries: its run id. Cleanup finds a run's leftovers by it. */
export const RUN_LABEL = 'gameday.dev/run';
/** The label naming the scenario fault a chaos object or Job belongs to. */
export const FAULT_LABEL = 'gameday.dev/fault';
/** kubectl's convention: who manages the object. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'gameday';

/** A run id: lowercase letters and digits, 1-20, usable in label values and object names. */
export const RUN_ID_PATTERN = /^[a-z0-9]{1,20}$/;

/** A fresh run id: 10 random base-36 characters. */
export function newRunId(): string {
  const bytes = randomBytes(10);
  return [...bytes].map((b) => (b % 36).toString(36)).join('');
}

export function isRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id);
}

/** The labels every object of a run carries, besides its own. */
export function runLabels(runId: string): Record<string, string> {
  return { [RUN_LABEL]: runId, [MANAGED_BY_LABEL]: MANAGED_BY };
}

/** `gameday.dev/run=<id>`: the label selector of everything a run created. */
export function runSelector(runId: string): string {
  return `${RUN_LABEL}=${runId}`;
}

/**
 * The name of a fault's object: `<fault>-<runId>`, a DNS-1123 label (at most 63). A fault name too
 * long for that is cut and given its index, so two faults never share a name.
 */
export function faultObjectName(fault: string, index: number, runId: string): string {
  const full = `${fault}-${runId}`;
  if (full.length <= 63) return full;
  const tail = `-f${index}-${runId}`;
  return `${fault.slice(0, 63 - tail.length).replace(/-+$/, '')}${tail}`;
}

/** A database password for the run's PostgreSQL: 32 hex characters (safe inside a URL). */
export function newDatabasePassword(): string {
  return randomBytes(16).toString('hex');
}
