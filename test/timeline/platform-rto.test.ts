import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { platformRtoMs } from '../../harness/timeline/disruption.js';
import { describeRecovery } from '../../harness/timeline/platform-rto.js';

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

/** The events a Kubernetes pod watch yields: the replacement pod created, its phases, then Ready (no replica.ready). */
function phase(atMs: number, target: string, p: string, replaces?: string, reason?: string): JournalEvent {
  return { atMs, wallMs: 1_700_000_000_000 + atMs, source: 'platform', type: 'replica.phase', target, detail: { phase: p, ...(replaces ? { replaces } : {}), ...(reason ? { reason } : {}) } };
}
function started(atMs: number, target: string, replaces: string | null): JournalEvent {
  return { atMs, wallMs: 1_700_000_000_000 + atMs, source: 'platform', type: 'replica.started', target, detail: { replaces } };
}

describe('platformRtoMs from a pod watch (typed phase events)', () => {
  it('is kill → replacement Ready, with the time spent in each phase: "45 s, 40 s in ContainerCreating"', () => {
    const events = [
      killed(20_000, 'api-a'),
      started(20_150, 'api-b', 'api-a'),
      phase(20_150, 'api-b', 'Pending'),
      phase(20_400, 'api-b', 'ContainerCreating', undefined, 'ImagePull'),
      phase(60_400, 'api-b', 'Running'),
      phase(65_000, 'api-b', 'Ready'),
    ];
    const rto = platformRtoMs(events, 'kill');
    expect(rto).toMatchObject({ rtoMs: 45_000, recovered: true });
    expect(rto.replicas[0]).toEqual({
      replica: 'api-a',
      killedAtMs: 20_000,
      replacement: 'api-b',
      readyAtMs: 65_000,
      rtoMs: 45_000,
      phases: [
        { phase: 'Pending', atMs: 20_150, ms: 250 },
        { phase: 'ContainerCreating', atMs: 20_400, ms: 40_000, reason: 'ImagePull' },
        { phase: 'Running', atMs: 60_400, ms: 4_600 },
      ],
    });
    expect(describeRecovery(rto.replicas[0]!)).toBe('api-a replaced by api-b in 45.0 s: Pending 0.3 s, ContainerCreating (ImagePull) 40.0 s, Running 4.6 s');
  });

  it('takes `replaces` from the phase events alone, and is not recovered while the replacement never gets past ContainerCreating', () => {
    const stuck = [killed(1_000, 'api-a'), phase(1_100, 'api-b', 'Pending', 'api-a'), phase(1_300, 'api-b', 'ContainerCreating', 'api-a', 'ImagePullBackOff')];
    expect(platformRtoMs(stuck, 'kill')).toMatchObject({ rtoMs: null, recovered: false, reason: 'not recovered: no ready replacement for api-a' });
    const ready = [...stuck, phase(9_000, 'api-b', 'Running', 'api-a'), phase(9_500, 'api-b', 'Ready', 'api-a')];
    expect(platformRtoMs(ready, 'kill').rtoMs).toBe(8_500);
  });

  it('a Ready phase and a replica.ready of the same instant are one readiness; the local journal implies its phases', () => {
    const both = [killed(0, 'a'), phase(700, 'b', 'Running', 'a'), phase(900, 'b', 'Ready', 'a'), ready(900, 'b', 'a')];
    expect(platformRtoMs(both, 'kill').replicas).toHaveLength(1);
    const local: JournalEvent[] = [
      killed(10_000, 'a'),
      started(10_004, 'b', 'a'),
      { atMs: 10_310, wallMs: 0, source: 'platform', type: 'replica.listening', target: 'b', detail: { port: 4000 } },
      ready(10_520, 'b', 'a'),
    ];
    expect(platformRtoMs(local, 'kill').replicas[0]?.phases).toEqual([
      { phase: 'ContainerCreating', atMs: 10_004, ms: 306 },
      { phase: 'Running', atMs: 10_310, ms: 210 },
    ]);
  });
});

describe('the report', () => {
  it('shows how a replacement came back phase by phase (summary.md), and nothing for a result without phases', async () => {
    const { renderMarkdown } = await import('../../harness/report/markdown.js');
    const { syntheticResult } = await import('../report/fixture.js');
    const r = syntheticResult();
    expect(renderMarkdown(r)).not.toContain('Replicas replaced');
    const events = [killed(20_000, 'api-a'), started(20_100, 'api-b', 'api-a'), phase(20_100, 'api-b', 'Pending'), phase(20_300, 'api-b', 'ContainerCreating'), phase(60_300, 'api-b', 'Running'), phase(65_000, 'api-b', 'Ready')];
    const platform = platformRtoMs(events, 'kill');
    r.rto.faults = [{ fault: 'kill', atMs: 20_000, platform, client: { rtoMs: null, recovered: false } as never }];
    expect(renderMarkdown(r)).toContain('- kill: api-a replaced by api-b in 45.0 s: Pending 0.2 s, ContainerCreating 40.0 s, Running 4.7 s');
  });
});
