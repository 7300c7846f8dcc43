import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { faultStartMs, measureFaultRtos } from '../../harness/verdict/rto.js';
import { feed, generate, healthy, outage, refused } from '../timeline/synthetic.js';
import { planWith, podKill } from './plan-fixture.js';

const kill = podKill('kill', 20_000);

function at(atMs: number, type: string, fault?: string): JournalEvent {
  return { atMs, wallMs: atMs, source: 'fault', type, target: 'r1', ...(fault ? { fault } : {}) };
}

describe('faultStartMs', () => {
  it('prefers the journal instant the fault took effect over the planned one', () => {
    expect(faultStartMs(kill, [at(20_180, 'fault.applied', 'kill'), at(20_150, 'replica.killed', 'kill')])).toBe(20_150);
    expect(faultStartMs(kill, [at(20_150, 'replica.killed', 'other'), at(19_000, 'replica.ready', 'kill')])).toBe(20_000);
  });
});

describe('measureFaultRtos', () => {
  it('measures the client RTO from the journal instant, the platform RTO from kill to ready', () => {
    const plan = planWith([], [kill]);
    const rec = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: 500, maxLatencyMs: 10_000 });
    // The injector ran 650 ms late; the outage follows the real kill, not the plan.
    feed(rec, generate({ ratePerSec: 500, toMs: 60_000, service: outage(healthy, 20_650, 22_650, refused) }));
    const events: JournalEvent[] = [at(20_650, 'replica.killed', 'kill'), { ...at(24_650, 'replica.ready'), target: 'r4', detail: { replaces: 'r1' } }];
    const [rto] = measureFaultRtos(plan, rec.snapshot(), events);
    expect(rto?.atMs).toBe(20_650);
    expect(rto?.platform.rtoMs).toBe(4_000);
    expect(Math.abs((rto?.client.rtoMs ?? Infinity) - 2_000)).toBeLessThanOrEqual(100);
  });
});
