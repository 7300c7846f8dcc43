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

/** The decisive acknowledged write of each task id (of its latest task, when the id was given out again: see reusedIdWrites). */
export function decisiveWrites(writes: readonly AcknowledgedWrite[]): Map<number, AcknowledgedWrite> {
  const latest = latestCreates(writes);
  const byId = new Map<number, AcknowledgedWrite>();
  for (const w of writes) {
    if (w.atMs < (latest.get(w.id) ?? -Infinity)) continue;
    const best = byId.get(w.id);
    if (best === undefined || supersedes(w, best)) byId.set(w.id, w);
  }
  return byId;
}

/** When an id was created more than once, the acknowledgement time of its last create. */
function latestCreates(writes: readonly AcknowledgedWrite[]): Map<number, number> {
  const count = new Map<number, number>();
  const latest = new Map<number, number>();
  for (const w of writes) {
    if (w.op !== 'create') continue;
    count.set(w.id, (count.get(w.id) ?? 0) + 1);
    latest.set(w.id, Math.max(latest.get(w.id) ?? -Infinity, w.atMs));
  }
  for (const [id, n] of count) if (n < 2) latest.delete(id);
  return latest;
}

/**
 * An identity never gives an id twice, unless the database lost the row and the sequence went
 * back (a restore from a backup older than the row). Then the first task is gone, whatever the
 * row holds now: for each earlier task of a reused id, its last acknowledged write, and when the
 * id was given again.
 */
export function reusedIdWrites(writes: readonly AcknowledgedWrite[]): Array<{ write: AcknowledgedWrite; reusedAtMs: number }> {
  const creates = new Map<number, number[]>();
  for (const w of writes) if (w.op === 'create') creates.set(w.id, [...(creates.get(w.id) ?? []), w.atMs]);
  const out: Array<{ write: AcknowledgedWrite; reusedAtMs: number }> = [];
  for (const [id, times] of creates) {
    if (times.length < 2) continue;
    times.sort((a, b) => a - b);
    for (let g = 0; g + 1 < times.length; g++) {
      const [from, to] = [times[g] as number, times[g + 1] as number];
      let last: AcknowledgedWrite | undefined;
      for (const w of writes) if (w.id === id && w.atMs >= from && w.atMs < to && (last === undefined || w.atMs >= last.atMs)) last = w;
      if (last) out.push({ write: last, reusedAtMs: to });
    }
  }
  return out;
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
