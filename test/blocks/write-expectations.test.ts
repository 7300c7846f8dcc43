import { describe, expect, it } from 'vitest';
import type { AcknowledgedWrite } from '../../harness/load/types.js';
import { decisiveWrites, differingFields, lossReason, type TaskRow } from '../../harness/observe/write-expectations.js';

/** Which acknowledged write decides a row's expected state, and how a row is compared with it (pure). */

const row = (over: Partial<TaskRow> = {}): TaskRow => ({
  id: 1,
  title: 't',
  description: null,
  status: 'pending',
  priority: 3,
  due_date: new Date('2030-01-31T07:00:00.123Z'),
  created_at: new Date('2025-01-01T00:00:00.000Z'),
  updated_at: new Date('2025-01-02T00:00:00.000Z'),
  ...over,
});

/** The acknowledgement of `r` as the service's JSON would carry it. */
const fieldsOf = (r: TaskRow): Record<string, unknown> => JSON.parse(JSON.stringify(r)) as Record<string, unknown>;

const upd = (atMs: number, updatedAt: string, title: string): AcknowledgedWrite => ({
  op: 'update',
  id: 1,
  atMs,
  fields: fieldsOf(row({ title, updated_at: new Date(updatedAt) })),
});

describe('decisiveWrites', () => {
  it('orders creates and updates by the acknowledged updated_at, then atMs', () => {
    const a = upd(100, '2025-01-02T00:00:01Z', 'a');
    const b = upd(50, '2025-01-02T00:00:02Z', 'b');
    expect(decisiveWrites([a, b]).get(1)).toBe(b);
    const noBody: AcknowledgedWrite = { op: 'update', id: 1, atMs: 200 };
    expect(decisiveWrites([a, noBody]).get(1)).toBe(noBody);
    const tie = upd(300, '2025-01-02T00:00:01Z', 'tie');
    expect(decisiveWrites([tie, a]).get(1)).toBe(tie);
  });

  it('lets an acknowledged delete decide, whatever came after it by atMs', () => {
    const del: AcknowledgedWrite = { op: 'delete', id: 1, atMs: 10 };
    expect(decisiveWrites([upd(5, '2025-01-02T00:00:01Z', 'x'), del, upd(20, '2025-01-02T00:00:03Z', 'y')]).get(1)).toBe(del);
    expect(decisiveWrites([del, { op: 'delete', id: 1, atMs: 30 }]).get(1)?.atMs).toBe(30);
  });
});

describe('lossReason', () => {
  it('accepts the row the acknowledgement describes, timestamps compared as instants', () => {
    const fields = { ...fieldsOf(row()), due_date: '2030-01-31T09:00:00.123+02:00' };
    expect(lossReason({ op: 'create', id: 1, atMs: 0, fields }, row())).toBeUndefined();
    expect(differingFields({ priority: '3', description: null, unknown: 1 }, row())).toEqual(['priority']);
  });

  it('names what is missing, still present, overwritten or corrupted', () => {
    expect(lossReason({ op: 'create', id: 1, atMs: 0, fields: fieldsOf(row()) }, undefined)).toMatch(/^missing/);
    expect(lossReason({ op: 'delete', id: 1, atMs: 0 }, row())).toMatch(/still present/);
    expect(lossReason({ op: 'delete', id: 1, atMs: 0 }, undefined)).toBeUndefined();
    const acked = { op: 'update' as const, id: 1, atMs: 0, fields: fieldsOf(row()) };
    expect(lossReason(acked, row({ status: 'done', updated_at: new Date('2025-01-03T00:00:00Z') }))).toMatch(/^overwritten: status differ/);
    expect(lossReason(acked, row({ status: 'done' }))).toBe('mismatch: status differ from the acknowledged update');
  });

  it('does not count a later write of the same content as a loss', () => {
    const acked = { op: 'update' as const, id: 1, atMs: 0, fields: fieldsOf(row()) };
    expect(lossReason(acked, row({ updated_at: new Date('2025-01-05T00:00:00Z') }))).toBeUndefined();
  });
});
