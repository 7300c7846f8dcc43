import pg from 'pg';
import type { AcknowledgedWrite } from '../load/types.js';
import { OBSERVER_APPLICATION_NAME } from './pg-activity.js';
import { decisiveWrites, lossReason, reusedIdWrites, type TaskRow } from './write-expectations.js';

/** An acknowledged write the database (or the service, read back over HTTP) does not hold. */
export interface LostWrite {
  op: AcknowledgedWrite['op'];
  /** The entity: the Task API's numeric id, or the id as the service gave it (read back over HTTP). */
  id: number | string;
  /** When the load saw the acknowledgement (run clock). */
  atMs: number;
  reason: string;
}

export interface DurabilityReport {
  /** Acknowledged writes given. */
  acknowledged: number;
  /** Task ids checked: one decisive write each (see write-expectations.ts). */
  checked: number;
  /** Every lost write, counted. */
  lostTotal: number;
  lostByOp: Record<AcknowledgedWrite['op'], number>;
  /** The lost writes, the first `maxReported` by id (read back over HTTP: by acknowledgement). */
  lost: LostWrite[];
  /** Read back over HTTP: entities not read (the cap on entities, or the time limit). */
  unread?: number;
}

export interface VerifyOptions {
  /** Ids per query; default 1000. */
  batchSize?: number;
  /** Bound on connecting and on each query; default 10 s. */
  timeoutMs?: number;
  /** At most this many lost writes are listed (all are counted); default 1000. */
  maxReported?: number;
}

const SELECT_SQL = `
SELECT id::float8 AS id, title, description, status, priority, due_date, created_at, updated_at
FROM tasks WHERE id = ANY($1::bigint[])`;

/**
 * The durability check: after the run, every write the service acknowledged with 2xx must be
 * in the database as acknowledged (creates and updates present with the acknowledged fields,
 * deletes gone). One connection, parameterized batches, every query time-bounded.
 */
export async function verifyWrites(databaseUrl: string, writes: readonly AcknowledgedWrite[], options: VerifyOptions = {}): Promise<DurabilityReport> {
  const { batchSize = 1000, timeoutMs = 10_000, maxReported = 1000 } = options;
  const decisive = decisiveWrites(writes);
  const ids = [...decisive.keys()].sort((a, b) => a - b);
  const report: DurabilityReport = { acknowledged: writes.length, checked: ids.length, lostTotal: 0, lostByOp: { create: 0, update: 0, delete: 0 }, lost: [] };
  for (const { write, reusedAtMs } of reusedIdWrites(writes)) {
    report.lostTotal += 1;
    report.lostByOp[write.op] += 1;
    const reason = `replaced: id ${write.id} was given to another task acknowledged at ${Math.round(reusedAtMs)}ms (the database lost this one)`;
    if (report.lost.length < maxReported) report.lost.push({ op: write.op, id: write.id, atMs: write.atMs, reason });
  }
  if (ids.length === 0) return report;
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: OBSERVER_APPLICATION_NAME,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const rows = await readRows(client, batch);
      for (const id of batch) record(report, decisive.get(id) as AcknowledgedWrite, rows.get(id), maxReported);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return report;
}

async function readRows(client: pg.Client, ids: number[]): Promise<Map<number, TaskRow>> {
  const { rows } = await client.query<TaskRow>(SELECT_SQL, [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

function record(report: DurabilityReport, write: AcknowledgedWrite, row: TaskRow | undefined, maxReported: number): void {
  const reason = lossReason(write, row);
  if (reason === undefined) return;
  report.lostTotal += 1;
  report.lostByOp[write.op] += 1;
  if (report.lost.length < maxReported) report.lost.push({ op: write.op, id: write.id, atMs: write.atMs, reason });
}
