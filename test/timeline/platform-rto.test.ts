import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { platformRtoMs } from '../../harness/timeline/disruption.js';

function killed(atMs: number, target: string, fault = 'kill'): JournalEvent {
  return { atMs, wallMs: 1_700_000_000_000 + atMs, source: 'fault', type: 'replica.killed', target, fault };
}
function ready(atMs: number, target: string, replaces?: string): JournalEvent {
  return { atMs, wallMs: 1_700_000_000_000 + atMs, source: 'platform', type: 'replica.ready', target, ...(replaces ? { detail: { replaces } } : {}) };
}

describe('platformRtoMs', () => {
  it('is the time from the kill to the replacement being ready', () => {
    const events = [ready(1_000, 'r1'), killed(20_345, 'r1'), ready(23_100, 'r4', 'r1')];
    const rto = platformRtoMs(events, 'kill');
    expect(rto).toMatchObject({ fault: 'kill', rtoMs: 2_755, recovered: true });
    expect(rto.replicas).toEqual([{ replica: 'r1', killedAtMs: 20_345, replacement: 'r4', readyAtMs: 23_100, rtoMs: 2_755 }]);
  });

  it('takes the slowest of three replicas killed at once (mode all), whatever the journal order', () => {
    const events = [
      ready(24_000, 'r5', 'r2'),
      killed(20_000, 'r1'),
      killed(20_001, 'r2'),
      killed(20_002, 'r3'),
      ready(22_500, 'r4', 'r1'),
      ready(26_250, 'r6', 'r3'),
    ];
    const rto = platformRtoMs(events, 'kill');
    expect(rto.rtoMs).toBe(26_250 - 20_002);
    expect(rto.replicas.map((r) => [r.replica, r.replacement, r.rtoMs])).toEqual([
      ['r1', 'r4', 2_500],
      ['r2', 'r5', 3_999],
      ['r3', 'r6', 6_248],
    ]);
  });

  it('is null, not recovered, when a killed replica was never replaced', () => {
    const events = [killed(20_000, 'r1'), killed(20_000, 'r2'), ready(22_000, 'r4', 'r1')];
    const rto = platformRtoMs(events, 'kill');
    expect(rto.rtoMs).toBeNull();
    expect(rto.recovered).toBe(false);
    expect(rto.reason).toContain('r2');
    expect(rto.replicas[0]?.rtoMs).toBe(2_000);
  });

  it('ignores other faults, readiness before the kill, and matches a name killed twice in order', () => {
    const events = [
      ready(5_000, 'old', 'r1'),
      killed(10_000, 'r1', 'other'),
      ready(11_000, 'x', 'r1'),
      killed(20_000, 'r1'),
      ready(21_000, 'y', 'r1'),
      killed(30_000, 'r1'),
      ready(34_000, 'z', 'r1'),
    ];
    const rto = platformRtoMs(events, 'kill');
    expect(rto.replicas.map((r) => [r.replacement, r.rtoMs])).toEqual([
      ['y', 1_000],
      ['z', 4_000],
    ]);
    expect(rto.rtoMs).toBe(4_000);
  });

  it('reports a fault that killed nothing as not recovered', () => {
    const rto = platformRtoMs([ready(1_000, 'r1')], 'kill');
    expect(rto).toMatchObject({ rtoMs: null, recovered: false, replicas: [], reason: 'the fault killed no replica' });
  });
});
