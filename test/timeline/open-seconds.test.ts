import type { JsHistogram } from 'hdr-histogram-js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compactHistogram, copyHistogram, createLatencyHistogram, summarize } from '../../harness/timeline/histogram.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { prng } from './synthetic.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MAX_LATENCY_MS = 20_000;
const MAX_US = MAX_LATENCY_MS * 1000;

/** Every recorded value (the top of its bucket) and its count, in value order. */
function buckets(h: JsHistogram): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push([h.highestEquivalentValue(v.valueIteratedTo), v.countAtValueIteratedTo]);
  }
  return out;
}

const PERCENTILES = [0, 10, 50, 90, 95, 99, 99.9, 99.99, 100];

describe("an open second's histogram", () => {
  it('grows its range on demand: the same buckets, counts and percentiles as a full-range histogram', () => {
    const rnd = prng(21);
    const second = createLatencyHistogram(MAX_LATENCY_MS, 'window') as JsHistogram;
    const full = createLatencyHistogram(MAX_LATENCY_MS, 'phase') as JsHistogram;
    // It starts with the short latencies' range only.
    expect(second.estimatedFootprintInBytes).toBeLessThan(full.estimatedFootprintInBytes / 4);
    // Mostly 0.3–30 ms, a tail up to the maximum, and the maximum itself (what the recorder clamps to).
    const values = Array.from({ length: 20_000 }, () => Math.max(1, Math.round(rnd() < 0.98 ? 300 + rnd() ** 3 * 30_000 : rnd() ** 2 * MAX_US)));
    values.push(MAX_US, 1);
    for (const v of values) {
      second.recordValue(v);
      full.recordValue(v);
    }
    expect(second.totalCount).toBe(full.totalCount);
    expect([second.maxValue, second.minNonZeroValue]).toEqual([full.maxValue, full.minNonZeroValue]);
    expect(PERCENTILES.map((p) => second.getValueAtPercentile(p))).toEqual(PERCENTILES.map((p) => full.getValueAtPercentile(p)));
    expect(buckets(second)).toEqual(buckets(full));
    // Sealed (compacted) and copied back to an open second: still the same figures.
    for (const h of [compactHistogram(second), copyHistogram(compactHistogram(second), MAX_LATENCY_MS, 'window')] as JsHistogram[]) {
      expect(summarize(h)).toEqual(summarize(full));
      expect(buckets(h)).toEqual(buckets(full));
    }
  });

  it('keeps a run of short latencies in half the memory full-range seconds took', () => {
    // As a run at 5,000/s with a 10 s timeout (maxLatencyMs 20 s) and three named requests: 23 open
    // seconds in the recorder's ring and in each request's, 1–30 ms latencies. Full-range seconds
    // (64 KB each) held 6.4 MB here; grown on demand to 30 ms (24 KB), 2.6 MB.
    const rnd = prng(5);
    const rec = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 60_000 }], sloLatencyMs: 500, maxLatencyMs: MAX_LATENCY_MS, requests: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    gc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const rate = 2_000;
    for (let i = 0; i < 30 * rate; i++) {
      const sendMs = (i * 1000) / rate;
      const latencyMs = 1 + rnd() ** 3 * 29;
      rec.response(i % 3, sendMs + latencyMs, latencyMs, 200);
    }
    gc();
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(3.2 * 1024 * 1024);
    // The figures are those of the outcomes: every one counted, percentiles within the range sent.
    const data = rec.snapshot();
    expect(data.phases[0]?.count).toBe(30 * rate);
    expect(data.requests.map((r) => r.phases[0]?.count)).toEqual([20_000, 20_000, 20_000]);
    const last = data.seconds[29];
    expect(last?.count).toBe(rate);
    expect(last?.p99Ms).toBeGreaterThan(15);
    expect(last?.maxMs).toBeLessThanOrEqual(30.1);
  });
});
