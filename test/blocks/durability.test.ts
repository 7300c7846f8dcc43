import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcknowledgedWrite } from '../../harness/load/types.js';
import { verifyWrites } from '../../harness/observe/durability.js';
import { withDb } from '../task-api/db-helpers.js';
import { call } from '../task-api/http.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { killAllTaskApis, runTaskApi, startReplica, type Replica } from '../task-api/replica.js';

/**
 * The durability check on a real PostgreSQL, with acknowledgements made the way the load driver
 * makes them: the 2xx response body of a real Task API replica, parsed, becomes `fields`.
 */

let postgres: TestPostgres;
let url: string;
let replica: Replica;
let atMs = 0;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase('durability');
  expect((await runTaskApi('seed', { DATABASE_URL: url, SEED_ROWS: '20' })).code).toBe(0);
  replica = await startReplica({ DATABASE_URL: url, REPLICA_NAME: 'durable' });
});

afterAll(async () => {
  await killAllTaskApis();
  await postgres?.stop();
});

async function create(title: string): Promise<AcknowledgedWrite> {
  const res = await call<Record<string, unknown>>(replica.url, 'POST', '/tasks', { json: { title, priority: 2, due_date: '2030-01-31T09:00:00.123+02:00' } });
  expect(res.status).toBe(201);
  return { op: 'create', id: res.body['id'] as number, atMs: (atMs += 10), fields: JSON.parse(res.text) as Record<string, unknown> };
}

async function update(id: number, patch: Record<string, unknown>): Promise<AcknowledgedWrite> {
  const res = await call(replica.url, 'PATCH', `/tasks/${id}`, { json: patch });
  expect(res.status).toBe(200);
  return { op: 'update', id, atMs: (atMs += 10), fields: JSON.parse(res.text) as Record<string, unknown> };
}

async function remove(id: number): Promise<AcknowledgedWrite> {
  expect((await call(replica.url, 'DELETE', `/tasks/${id}`)).status).toBe(204);
  return { op: 'delete', id, atMs: (atMs += 10) };
}

describe('verifyWrites', () => {
  it('finds nothing lost when the database holds every acknowledged write, in batches', async () => {
    const writes = [await create('one'), await create('two'), await update(3, { status: 'done' }), await update(3, { priority: 5 }), await remove(4), await remove(5)];
    const report = await verifyWrites(url, writes, { batchSize: 2 });
    expect(report).toEqual({ acknowledged: 6, checked: 5, lostTotal: 0, lostByOp: { create: 0, update: 0, delete: 0 }, lost: [] });
  });

  it('reports a write deleted behind its back, and one overwritten behind its back', async () => {
    const created = await create('vanishes');
    const updated = await update(6, { title: 'acknowledged title' });
    const kept = await update(7, { description: 'stays' });
    await withDb(url, async (db) => {
      await db.query('DELETE FROM tasks WHERE id = $1', [created.id]);
      await db.query("UPDATE tasks SET title = 'someone else', updated_at = clock_timestamp() WHERE id = 6");
    });
    const report = await verifyWrites(url, [created, updated, kept]);
    expect(report.lostTotal).toBe(2);
    expect(report.lostByOp).toEqual({ create: 1, update: 1, delete: 0 });
    expect(report.lost).toEqual([
      { op: 'update', id: 6, atMs: updated.atMs, reason: expect.stringMatching(/^overwritten: title differ; updated_at moved/) },
      { op: 'create', id: created.id, atMs: created.atMs, reason: expect.stringMatching(/^missing/) },
    ]);
  });

  it('reports a silent corruption that kept updated_at, and a deleted row that came back', async () => {
    const updated = await update(8, { status: 'in_progress' });
    const deleted = await remove(9);
    await withDb(url, async (db) => {
      await db.query("UPDATE tasks SET status = 'pending', priority = 1 WHERE id = 8");
      await db.query("INSERT INTO tasks (id, title) VALUES (9, 'resurrected')");
    });
    const report = await verifyWrites(url, [updated, deleted], { maxReported: 1 });
    expect(report.lostTotal).toBe(2);
    expect(report.lost).toEqual([{ op: 'update', id: 8, atMs: updated.atMs, reason: 'mismatch: status, priority differ from the acknowledged update' }]);
  });

  it('judges the write that committed last, even when its acknowledgement arrived first', async () => {
    const first = await update(10, { title: 'first' });
    const second = await update(10, { title: 'second' });
    // Responses can overtake each other on the way back: the load saw `second` acknowledged first.
    const swapped = [{ ...second, atMs: first.atMs }, { ...first, atMs: second.atMs }];
    expect((await verifyWrites(url, swapped)).lostTotal).toBe(0);
  });

  it('throws when the check cannot run at all (it never passes for want of a database)', async () => {
    const missing = await postgres.createDatabase('no_tasks');
    await expect(verifyWrites(missing, [{ op: 'delete', id: 1, atMs: 0 }])).rejects.toThrow(/tasks/);
    expect(await verifyWrites(missing, [])).toMatchObject({ checked: 0, lostTotal: 0 });
  });
});
