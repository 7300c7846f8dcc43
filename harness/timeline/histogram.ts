import { createRequire } from 'node:module';
import type { BitBucketSize, Histogram, JsHistogram } from 'hdr-histogram-js';
import type { JsHistogramConstructor } from 'hdr-histogram-js/dist/JsHistogramFactory.js';

// The plain JavaScript histograms alone: the package's main entry also loads its WebAssembly build
// (a large base64 module: about 40 ms and 15 MB of memory at start), which the recorder never uses.
const require = createRequire(import.meta.url);
const { constructorFromBucketSize } = require('hdr-histogram-js/dist/JsHistogramFactory.js') as { constructorFromBucketSize: (bits: BitBucketSize) => JsHistogramConstructor };
const JsHistogramClass = (require('hdr-histogram-js/dist/JsHistogram.js') as { default: typeof JsHistogram }).default;

/** A JavaScript HDR histogram of integers ≥ 1, 3 significant digits, of a fixed range. */
function build(bits: BitBucketSize, highestTrackableValue: number): JsHistogram {
  const h = new (constructorFromBucketSize(bits))(1, highestTrackableValue, 3);
  h.autoResize = false;
  return h;
}
import type { LatencySummary } from './types.js';

/**
 * Latency histograms hold integer microseconds, 3 significant digits (HDR's error ≤ 0.1%).
 * All use 32-bit buckets: packed ones would save memory (~3 KB instead of ~60 KB per second at a
 * 10 s range) but read about 50× slower, so that summarising, copying and logging a long run
 * would take seconds. The kinds are kept apart so that this trade can be revisited per use.
 */
export type HistogramKind = 'window' | 'phase' | 'request';

/**
 * `window`: a second, the recorder's or one request's (timeline/requests.ts); `request`: one
 * request's phase spans.
 */
const BUCKETS: Record<HistogramKind, BitBucketSize> = { window: 32, phase: 32, request: 32 };

/**
 * A second's histogram starts with the smallest range (one HDR bucket: 1–2,048 µs, 8 KB of
 * counters) and grows to the maximum on demand (HDR's autoResize extends the counters array, bucket
 * for bucket the same), so a second of short latencies never holds the counters of the long ones:
 * about 24 KB for one of 1–30 ms instead of 64 KB at a 20 s range. A run at 5,000/s with a 10 s
 * timeout keeps 23 seconds open in the recorder and in each named request (recorder.ts,
 * requests.ts): with three requests, 92 histograms, about 2.2 MB instead of 5.9 MB.
 */
const SECOND_START_US = 2_048;

export function maxTrackableMicros(maxLatencyMs: number): number {
  return Math.ceil(maxLatencyMs * 1000);
}

/**
 * A histogram that takes every value up to `maxLatencyMs` (the recorder clamps longer ones); a
 * `window` one sized for the short ones first (see SECOND_START_US): at most a few resizes a second.
 */
export function createLatencyHistogram(maxLatencyMs: number, kind: HistogramKind): Histogram {
  const max = Math.max(2, maxTrackableMicros(maxLatencyMs));
  if (kind !== 'window' || max <= SECOND_START_US) return build(BUCKETS[kind], max);
  const h = build(BUCKETS[kind], SECOND_START_US);
  h.autoResize = true;
  return h;
}

/** ms → µs, at least 1 µs (a zero, negative or NaN latency is recorded as 1 µs). */
export function toMicros(latencyMs: number): number {
  const us = Math.round(latencyMs * 1000);
  return us >= 1 ? us : 1;
}

function ms(us: number): number {
  return us / 1000;
}

/**
 * Percentiles from the histogram (the top of the value's bucket: ≤ 0.1% high). The mean is exact
 * when the sum of the recorded µs is given (HDR's own mean walks the whole array and is approximate).
 */
export function summarize(h: Histogram, sumUs?: number): LatencySummary {
  if (h.totalCount === 0) return { p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null, meanMs: null };
  return {
    p50Ms: ms(h.getValueAtPercentile(50)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    maxMs: ms(h.maxValue),
    meanMs: ms(sumUs === undefined ? h.mean : sumUs / h.totalCount),
  };
}

/** A new histogram holding the sum of `parts` (lossless: HDR `add`). */
export function mergeHistograms(parts: readonly Histogram[], maxLatencyMs: number, kind: HistogramKind = 'phase'): Histogram {
  const merged = createLatencyHistogram(maxLatencyMs, kind);
  for (const part of parts) merged.add(part);
  return merged;
}

/**
 * A copy of `h` as small as holds it exactly, for a second no outcome can reach any more: its range
 * ends at its own maximum and its counters are as narrow as its total allows (8, 16 or 32 bits).
 * The buckets are the same (same unit, same significant digits), so every percentile, the maximum
 * and the V2 encoding's counts are those of `h`; only the encoded highestTrackableValue differs.
 * About 14 KB for a second of 5,000 outcomes up to 30 ms, against 24 KB open (64 KB at a 20 s
 * range). It cannot take a larger value: the recorder copies it back to an open second's histogram
 * (which grows to the maximum) before writing to it.
 */
export function compactHistogram(h: Histogram): Histogram {
  if (!(h instanceof JsHistogramClass)) return h; // never made here (a WebAssembly one)
  const total = h.totalCount;
  const bits: BitBucketSize = total <= 0xff ? 8 : total <= 0xffff ? 16 : 32;
  const compact = build(bits, Math.max(2, h.maxValue));
  if (total > 0) compact.add(h);
  // add() records each bucket at its lowest value when the ranges differ: keep the exact extremes.
  compact.maxValue = h.maxValue;
  compact.minNonZeroValue = h.minNonZeroValue;
  return compact;
}

export function copyHistogram(h: Histogram, maxLatencyMs: number, kind: HistogramKind): Histogram {
  return mergeHistograms([h], maxLatencyMs, kind);
}
