import type { Histogram } from 'hdr-histogram-js';

export interface PercentilePoint {
  /** 0–100. */
  percentile: number;
  valueMs: number;
}

/**
 * The percentile curve of a µs histogram, as HdrHistogram's plots show it: points evenly spaced in
 * log10(1 / (1 − q)) ("nines"), 10 per nine, up to the resolution the count supports, then the max.
 */
export function percentileCurve(h: Histogram, pointsPerNine = 10): PercentilePoint[] {
  if (h.totalCount === 0) return [];
  const maxNines = Math.log10(h.totalCount);
  const points: PercentilePoint[] = [];
  for (let i = 0; i / pointsPerNine <= maxNines; i++) {
    const percentile = 100 * (1 - 10 ** (-i / pointsPerNine));
    points.push({ percentile: round(percentile, 6), valueMs: h.getValueAtPercentile(percentile) / 1000 });
  }
  points.push({ percentile: 100, valueMs: h.maxValue / 1000 });
  return points;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
