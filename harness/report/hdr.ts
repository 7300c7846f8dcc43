import { createRequire } from 'node:module';
import type { Histogram, JsHistogram as JsHistogramType, decodeFromCompressedBase64 as Decode, encodeIntoCompressedBase64 as Encode } from 'hdr-histogram-js';

// The package's parts, not its main entry: that one also loads the WebAssembly build and an Intl
// formatter, and the encoding loads pako (together ~15 MB of RSS). A run imports this module at
// start (result.ts), so the encoding is required at its first use, once the load is over.
const require = createRequire(import.meta.url);
const JsHistogram = (require('hdr-histogram-js/dist/JsHistogram.js') as { default: typeof JsHistogramType }).default;
let encoding: { decodeFromCompressedBase64: typeof Decode; encodeIntoCompressedBase64: typeof Encode } | undefined;
const codec = (): NonNullable<typeof encoding> => (encoding ??= require('hdr-histogram-js/dist/encoding.js') as NonNullable<typeof encoding>);

/**
 * Histograms travel inside result.json in HdrHistogram's own compressed V2 encoding (zlib-deflated,
 * base64): the very string an interval-log line carries, readable by every HdrHistogram port, a
 * few hundred bytes per second of run. result.json then stays the one file every report (the
 * HTML percentile plot, the interval log, the regression gate) is rendered from.
 */
export const HDR_ENCODING = 'HdrHistogram V2 compressed, base64';

/** Bucket counts are 32-bit, as the timeline records them (see timeline/histogram.ts). */
const BIT_BUCKET_SIZE = 32;

export function encodeHistogram(h: Histogram): string {
  return codec().encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return codec().decodeFromCompressedBase64(encoded, BIT_BUCKET_SIZE, false);
}

/** Every distinct recorded value (the top of its bucket, as getValueAtPercentile reports) and its count. */
export function recordedValues(h: Histogram): { values: number[]; counts: number[] } {
  const values: number[] = [];
  const counts: number[] = [];
  if (!(h instanceof JsHistogram) || h.totalCount === 0) return { values, counts };
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    values.push(h.highestEquivalentValue(v.valueIteratedTo));
    counts.push(v.countAtValueIteratedTo);
  }
  return { values, counts };
}
