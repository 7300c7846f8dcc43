import { describe, expect, it } from 'vitest';
import type { Clock } from '../../harness/core/clock.js';
import { eventsOf, Journal, type JournalEventType } from '../../harness/core/journal.js';
import type { FaultContext } from '../../harness/faults/types.js';
import { DisasterRecovery } from '../../harness/faults/kinds/disaster-recovery-injector.js';
import type { DatabaseRecovery } from '../../harness/platform/types.js';

/**
 * Every reading of this clock is one millisecond after the one before: a figure computed from a
 * reading of its own, not from the event's time, is off by a whole millisecond and shows.
 */
class SteppingClock implements Clock {
  private t = 0;
  now(): number {
    return (this.t += 1);
  }
  wallMs(offsetMs: number): number {
    return 1_700_000_000_000 + offsetMs;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
  }
}

describe('disaster-recovery drill: the durations it journals are the differences of its events’ times', () => {
  it('restore ms, backup age and the restore RTO agree with the atMs of the events they span', async () => {
    const clock = new SteppingClock();
    const journal = new Journal(clock);
    const dr: DatabaseRecovery = {
      backup: async () => ({ location: 'mem', bytes: 1, tables: 1, rows: 1, checkpointMs: 0, ms: 0 }),
      destroy: async () => ({ lost: true }),
      restore: async () => ({ restored: true }),
    };
    const replicas = [{ name: 'r1', ready: true }];
    const ctx = { platform: { kind: 'local', databaseRecovery: dr }, deployment: { replicas: () => replicas }, journal, clock, random: () => 0.5 } as unknown as FaultContext;
    const drill = new DisasterRecovery({ kind: 'disaster-recovery', name: 'd', atMs: 0, durationMs: 60_000, disasterAtMs: 500, healthPath: '/health' });
    await drill.apply(ctx);

    const one = <T extends JournalEventType>(type: T) => {
      const [e, ...more] = eventsOf(journal.events(), type);
      expect(e && more.length === 0, type).toBe(true);
      return e!;
    };
    const healthy = one('dr.service-healthy');
    const disaster = one('dr.disaster');
    const restored = one('dr.restore-completed');
    expect(healthy.detail.rtoMs).toBe(Math.round(healthy.atMs - disaster.atMs));
    expect(disaster.detail.backupAgeMs).toBe(Math.round(disaster.atMs - one('dr.backup-completed').atMs));
    expect(restored.detail['ms']).toBe(Math.round(restored.atMs - one('dr.restore-started').atMs));
  });
});
