import type { JsHistogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, summarize } from '../../harness/timeline/histogram.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { prng } from './synthetic.js';

const MAX_LATENCY_MS = 2_000;
const footprint = (h: unknown): number => (h as JsHistogram).estimatedFootprintInBytes;

describe('TimelineRecorder sealed seconds', () => {
  const rnd = prng(9);
  const rec = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 40_000 }], sloLatencyMs: 100, maxLatencyMs: MAX_LATENCY_MS });
  // 40 s at 2,000/s, latencies 0.2–60 ms with a tail; each second's exact histogram kept aside.
  const exact = Array.from({ length: 40 }, () => createLatencyHistogram(MAX_LATENCY_MS, 'window'));
  for (let i = 0; i < 80_000; i++) {
    const sendMs = i / 2;
    const latencyMs = 0.2 + rnd() ** 4 * 60;
    rec.response(0, sendMs + latencyMs, latencyMs, 200);
    exact[Math.floor(sendMs / 1000)]?.recordValue(Math.round(latencyMs * 1000));
  }

  it('keeps seconds no outcome can reach any more in far less memory, with the same counts, percentiles and maximum', () => {
    const data = rec.snapshot();
    // Sealed seconds against the same second open (32-bit counters, its range grown to its latencies).
    const open = footprint(exact[0]);
    for (const w of data.seconds.slice(0, 30)) {
      expect(footprint(w.histogram)).toBeLessThan(open / 1.5);
      const want = summarize(exact[w.index] as JsHistogram);
      const got = summarize(w.histogram);
      expect(w.histogram.totalCount).toBe((exact[w.index] as JsHistogram).totalCount);
      expect([got.p50Ms, got.p95Ms, got.p99Ms, got.maxMs]).toEqual([want.p50Ms, want.p95Ms, want.p99Ms, want.maxMs]);
    }
    // The newest seconds stay open: 32-bit counters over the range their latencies reached.
    expect(footprint(data.seconds[39]?.histogram)).toBe(footprint(exact[39]));
  });

  it('takes a late outcome into a sealed second (back at full range) and counts it', () => {
    const before = rec.snapshot().seconds[3];
    // Sent in second 3, reported now with a latency beyond the maximum (clamped).
    rec.transportError(0, 40_500, 37_000, 'timeout');
    const after = rec.snapshot().seconds[3];
    expect(after?.count).toBe((before?.count ?? 0) + 1);
    expect(after?.transportErrors.timeout).toBe(1);
    expect(after?.histogram.totalCount).toBe((before?.histogram.totalCount ?? 0) + 1);
    expect(after?.maxMs).toBe(MAX_LATENCY_MS);
    // The snapshot taken before is unchanged.
    expect(before?.histogram.totalCount).toBe((exact[3] as JsHistogram).totalCount);
  });
});
