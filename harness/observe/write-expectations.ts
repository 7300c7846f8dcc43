import type { AcknowledgedWrite } from '../load/types.js';

/**
 * What the database must hold after a run, given the writes the service acknowledged (pure).
 * Task ids come from an identity and are never reused, so once a delete was acknowledged the row
 * must be gone whatever came before. Otherwise the decisive write is the create or update that
 * committed last: its acknowledgement carries `updated_at` (set by the database under the row
 * lock, so it orders writes as they committed, even when responses overtook each other on the
 * way back); `atMs` breaks ties and stands in when a body was not parsed.
 */

/** The task columns as the durability check reads them back (timestamps as Date, as pg gives them). */
export interface TaskRow {
  id: number;
  title: string;
  description: string | null;
  status: string;
  priority: number;
  due_date: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS: readonly (keyof TaskRow)[] = ['id', 'title', 'description', 'status', 'priority', 'due_date', 'created_at', 'updated_at'];
const TIMESTAMPS: ReadonlySet<string> = new Set(['due_date', 'created_at', 'updated_at']);

/** The decisive acknowledged write of each task id. */
export function decisiveWrites(writes: readonly AcknowledgedWrite[]): Map<number, AcknowledgedWrite> {
  const byId = new Map<number, AcknowledgedWrite>();
  for (const w of writes) {
    const best = byId.get(w.id);
    if (best === undefined || supersedes(w, best)) byId.set(w.id, w);
  }
  return byId;
}

function supersedes(w: AcknowledgedWrite, best: AcknowledgedWrite): boolean {
  if (best.op === 'delete' || w.op === 'delete') return w.op === 'delete' && (best.op !== 'delete' || w.atMs >= best.atMs);
  const [a, b] = [updatedAtMs(w), updatedAtMs(best)];
  if (a !== undefined && b !== undefined && a !== b) return a > b;
  return w.atMs >= best.atMs;
}

function updatedAtMs(w: AcknowledgedWrite): number | undefined {
  const value = w.fields?.['updated_at'];
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** Why `row` does not hold what `write` acknowledged, or undefined when it does. */
export function lossReason(write: AcknowledgedWrite, row: TaskRow | undefined): string | undefined {
  if (write.op === 'delete') return row === undefined ? undefined : 'still present after an acknowledged delete';
  if (row === undefined) return `missing: the acknowledged ${write.op} is not in the database`;
  const differing = differingFields(write.fields ?? {}, row);
  if (differing.length === 0) return undefined;
  const acked = updatedAtMs(write);
  if (acked === undefined || row.updated_at.getTime() <= acked) return `mismatch: ${differing.join(', ')} differ from the acknowledged ${write.op}`;
  // A later write the load never saw acknowledged (someone else's, or its own that timed out).
  // If it wrote the same content, nothing the client was told is lost.
  const content = differing.filter((f) => f !== 'updated_at');
  if (content.length === 0) return undefined;
  const moved = `updated_at moved from ${new Date(acked).toISOString()} to ${row.updated_at.toISOString()}`;
  return `overwritten: ${content.join(', ')} differ; ${moved} by a write not acknowledged to the load`;
}

/** The acknowledged task fields whose value the row does not hold (fields the row lacks are ignored). */
export function differingFields(fields: Record<string, unknown>, row: TaskRow): string[] {
  return COLUMNS.filter((column) => Object.hasOwn(fields, column) && !sameValue(column, fields[column], row[column]));
}

function sameValue(column: string, acked: unknown, stored: unknown): boolean {
  if (acked === null || stored === null) return acked === stored;
  if (TIMESTAMPS.has(column)) return typeof acked === 'string' && stored instanceof Date && Date.parse(acked) === stored.getTime();
  return acked === stored;
}
