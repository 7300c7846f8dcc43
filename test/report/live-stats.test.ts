import { describe, expect, it } from 'vitest';
import { LiveStats } from '../../harness/run/live-stats.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';

describe('LiveStats (the live progress figures)', () => {
  it('reads the last complete second and the totals from the recorder', () => {
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 10_000 }], sloLatencyMs: 500, maxLatencyMs: 10_000 });
    const live = new LiveStats(recorder);
    // Outcomes are placed by their send time (end − latency): all of these were sent in second 1.
    for (let i = 0; i < 100; i++) recorder.response(0, 1100 + i * 5, i + 1, 200);
    recorder.response(0, 1600, 500, 503);
    recorder.transportError(0, 1700, 3, 'reset');
    recorder.dropped(0, 1800);
    expect(live.lastSecond(1999)).toEqual({ second: 0, requestsPerSec: 0, p95Ms: null, failures: 0 });
    // Second 1: 101 responses (1..100 ms and one 503 of 500 ms), one transport error (timed: 3 ms)
    // and one dropped arrival: 103 arrivals, 3 failures.
    const one = live.lastSecond(2001)!;
    expect(one).toMatchObject({ second: 1, requestsPerSec: 103, failures: 3 });
    expect(one.p95Ms).toBeCloseTo(96, 0);
    expect(live.totals()).toEqual({ outcomes: 103, failures: 3 });
    recorder.response(0, 2500, 1, 200);
    recorder.response(0, 3990, 2_500, 200); // sent at 1490, completed late: still counted in second 1
    expect(live.lastSecond(2900)?.requestsPerSec).toBe(104);
    // Settled: the guard's view lags by the settle time.
    expect(live.lastSecond(2900, 1000)?.second).toBe(0);
    expect(live.lastSecond(500)).toBeUndefined();
  });
});
