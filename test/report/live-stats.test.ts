import { describe, expect, it } from 'vitest';
import { LiveStats } from '../../harness/run/live-stats.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';

describe('LiveStats (the live progress figures)', () => {
  it('reads the last complete second and the totals from the recorder', () => {
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 10_000 }], sloLatencyMs: 500, maxLatencyMs: 10_000 });
    const live = new LiveStats(recorder);
    for (let i = 0; i < 100; i++) recorder.response(0, 1000 + i * 5, i + 1, 200);
    recorder.response(0, 1600, 500, 503);
    recorder.transportError(0, 1700, 3, 'reset');
    recorder.dropped(0, 1800);
    expect(live.lastSecond(1999)).toEqual({ second: 0, requestsPerSec: 0, p95Ms: null, failures: 0 });
    // Second 1: 101 responses (1..100 ms and one 503 of 500 ms) and one transport error.
    const one = live.lastSecond(2001)!;
    expect(one).toMatchObject({ second: 1, requestsPerSec: 102, failures: 2 });
    expect(one.p95Ms).toBeCloseTo(96, 0);
    expect(live.totals()).toEqual({ outcomes: 102, failures: 2 });
    recorder.response(0, 2500, 1, 200);
    recorder.response(0, 1990, 2, 200); // late, still counted in second 1
    expect(live.lastSecond(2900)?.requestsPerSec).toBe(103);
    expect(live.lastSecond(500)).toBeUndefined();
  });
});
