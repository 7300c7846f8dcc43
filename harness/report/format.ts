import type { MetricUnit } from '../scenario/plan.js';
import type { CheckResult } from '../verdict/types.js';

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

/**
 * A check's actual value as a row shows it. A literal 5xx count names the clients who failed in
 * other ways beside it ("0 5xx (1 connection reset)"), so a failed request is never invisible.
 */
export function actualText(c: Pick<CheckResult, 'actual' | 'unit' | 'metric' | 'detail'>): string {
  if (c.metric === 'requests.status5xx' && c.actual !== null && c.detail) return c.detail;
  return formatValue(c.actual, c.unit);
}

/** The detail a row shows after the value, unless `actualText` already shows it. */
export function detailText(c: Pick<CheckResult, 'actual' | 'unit' | 'metric' | 'detail'>): string {
  if (!c.detail || (c.metric === 'requests.status5xx' && c.actual !== null)) return '';
  return c.detail;
}
