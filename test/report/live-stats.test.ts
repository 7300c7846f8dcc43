import { describe, expect, it } from 'vitest';
import type { ResponseSink } from '../../harness/load/types.js';
import { LiveStats } from '../../harness/run/live-stats.js';

describe('LiveStats (the live progress figures)', () => {
  it('passes every outcome through and reports the last complete second', () => {
    const seen: string[] = [];
    const sink: ResponseSink = {
      response: (_o, end, _l, status) => seen.push(`r${status}@${end}`),
      transportError: (_o, end, _l, kind) => seen.push(`${kind}@${end}`),
      dropped: (_o, at) => seen.push(`drop@${at}`),
    };
    const live = new LiveStats(sink);
    for (let i = 0; i < 100; i++) live.response(0, 1000 + i * 5, i + 1, 200);
    live.response(0, 1600, 500, 503);
    live.transportError(0, 1700, 3, 'reset');
    live.dropped(0, 1800);
    expect(seen).toHaveLength(103);
    expect(live.lastSecond(1999)).toEqual({ second: 0, requestsPerSec: 0, p95Ms: null, failures: 0 });
    // Second 1: 101 responses (1..100 ms and one 503 of 500 ms) and one transport error.
    expect(live.lastSecond(2001)).toEqual({ second: 1, requestsPerSec: 102, p95Ms: 96, failures: 2 });
    expect(live.totals()).toEqual({ outcomes: 102, failures: 2 });
    live.response(0, 2500, 1, 200);
    live.response(0, 1990, 2, 200); // late, still counted in second 1
    expect(live.lastSecond(2900)?.requestsPerSec).toBe(103);
    expect(live.lastSecond(500)).toBeUndefined();
  });
});
