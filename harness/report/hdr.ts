import { JsHistogram, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

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
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, BIT_BUCKET_SIZE, false);
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
