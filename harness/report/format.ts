import type { MetricUnit } from '../scenario/plan.js';

/** A measured value in its unit, for people ("4.21s", "0", "1.2%"). */
export function formatValue(value: number | null, unit: MetricUnit): string {
  if (value === null) return 'n/a';
  switch (unit) {
    case 'ms':
      return Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)}ms`;
    case 'ratio':
      return `${(value * 100).toFixed(2)}%`;
    case 'rps':
      return `${value.toFixed(1)} req/s`;
    case 'count':
      return String(Math.round(value));
  }
}

export function formatMsOrNa(ms: number | null): string {
  return formatValue(ms, 'ms');
}
