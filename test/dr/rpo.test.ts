import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import type { AcknowledgedWrite } from '../../harness/load/types.js';
import { assessRpo } from '../../harness/observe/rpo.js';
import { decisiveWrites, reusedIdWrites } from '../../harness/observe/write-expectations.js';

const ev = (type: string, atMs: number, fault = 'dr'): JournalEvent => ({ type, atMs, wallMs: atMs, source: 'fault', target: 'database', fault, detail: {} });
const lost = (atMs: number, id = atMs) => ({ op: 'create' as const, id, atMs, reason: 'missing' });

describe('RPO as data', () => {
  const events = [ev('dr.backup-started', 1000), ev('dr.backup-completed', 1200), ev('dr.disaster', 5000), ev('dr.service-healthy', 8000)];

  it('places each lost write: before the backup or after the service is healthy again is outside the RPO, in between is the drill loss', () => {
    const r = assessRpo(events, { lostTotal: 5, lost: [lost(999), lost(1000), lost(4900), lost(8000), lost(8001)] });
    expect(r.drills[0]?.lostInWindow.map((l) => l.atMs)).toEqual([1000, 4900, 8000]);
    expect(r.drills[0]?.lostOutside.map((l) => l.atMs)).toEqual([999, 8001]);
    expect(r.drills[0]?.spanMs).toBe(7000);
    expect(r.drills[0]?.exposureMs).toBe(4000);
    expect(r.unplaced).toBe(0);
  });

  it('nothing lost: span 0; lost writes the report did not list count as unplaced; a drill stopped before its disaster has no window', () => {
    expect(assessRpo(events, { lostTotal: 0, lost: [] }).drills[0]?.spanMs).toBe(0);
    expect(assessRpo(events, { lostTotal: 3, lost: [lost(2000)] }).unplaced).toBe(2);
    const stopped = assessRpo([ev('dr.backup-started', 1000)], { lostTotal: 1, lost: [lost(2000)] });
    expect(stopped.drills[0]?.window.disasterAtMs).toBeNull();
    expect(stopped.drills[0]?.lostOutside).toHaveLength(1);
  });

  it('an id created twice (the identity went back after a restore): the first task is lost, the second decides what the row holds', () => {
    const writes: AcknowledgedWrite[] = [
      { op: 'create', id: 7, atMs: 100, fields: { title: 'first' } },
      { op: 'update', id: 7, atMs: 200, fields: { title: 'first, edited' } },
      { op: 'create', id: 7, atMs: 900, fields: { title: 'second' } },
      { op: 'create', id: 8, atMs: 950, fields: { title: 'once' } },
    ];
    expect(reusedIdWrites(writes)).toEqual([{ write: writes[1], reusedAtMs: 900 }]);
    expect(decisiveWrites(writes).get(7)).toBe(writes[2]);
    expect(reusedIdWrites(writes.filter((w) => w.id === 8))).toEqual([]);
  });
});
