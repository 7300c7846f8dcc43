import type { CapacityDocument } from '../../capacity/document.js';
/** Rates to 0.1/s. */
const fmt = (v: number): string => String(Math.round(v * 10) / 10);

/** One search's knee, baseline vs current. */
export interface CapacityMetricComparison {
  search: string;
  baseline: number | null;
  current: number | null;
  /** Lowest knee the current one may have without regressing: baseline × (1 − tolerance), less the steps' uncertainty. */
  floor: number | null;
  status: 'regressed' | 'inconclusive' | 'ok' | 'n/a';
  reason: string;
}

export interface CapacityComparison {
  baseline: { scenario: string; file: string };
  current: { scenario: string; file: string };
  tolerance: number;
  regressed: boolean;
  metrics: CapacityMetricComparison[];
}

const lowerBound = (s: CapacityDocument['searches'][number]): boolean => s.knee.status !== 'found';

/**
 * The capacity regression gate: a knee that drops more than the tolerance below the baseline's is
 * a regression. Each knee is only known to within its search's last step (rate ≤ knee < upper), so
 * the drop must exceed the tolerance plus the current step's uncertainty. A knee that is only a lower
 * bound (limited by the load generator, maxRate or time) cannot regress: inconclusive when lower.
 */
export function compareCapacity(baseline: CapacityDocument, current: CapacityDocument, files: { baseline: string; current: string }): CapacityComparison {
  const tolerance = current.tolerance ?? baseline.tolerance ?? 0.1;
  const metrics: CapacityMetricComparison[] = [];
  for (const b of baseline.searches) {
    const c = current.searches.find((s) => s.name === b.name);
    const base = b.knee.rate;
    const cur = c?.knee.rate ?? null;
    if (!c || base === null || cur === null) {
      metrics.push({ search: b.name, baseline: base, current: cur, floor: null, status: 'n/a', reason: !c ? 'not measured in the current run' : 'no knee on one side' });
      continue;
    }
    if (b.knee.status === 'generator-limited' || b.knee.status === 'above-max' || b.knee.status === 'time-bound') {
      metrics.push({ search: b.name, baseline: base, current: cur, floor: null, status: 'n/a', reason: `the baseline's knee is only a lower bound (${b.knee.status})` });
      continue;
    }
    const floor = Math.round((base * (1 - tolerance) - (c.knee.uncertainty ?? 0)) * 100) / 100;
    const dropped = cur < floor;
    const status = !dropped ? 'ok' : lowerBound(c) ? 'inconclusive' : 'regressed';
    const change = `${fmt(cur)}/s vs ${fmt(base)}/s (${fmt(Math.round((cur / base - 1) * 1000) / 10)}%)`;
    const reason = status === 'ok'
      ? `${change}: within ${Math.round(tolerance * 100)}% and the step`
      : status === 'inconclusive'
        ? `${change}: lower, but the current knee is only a lower bound (${c.knee.status})`
        : `${change}: below the floor ${fmt(floor)}/s (baseline − ${Math.round(tolerance * 100)}% − the step's uncertainty ${fmt(c.knee.uncertainty ?? 0)}/s)`;
    metrics.push({ search: b.name, baseline: base, current: cur, floor, status, reason });
  }
  return {
    baseline: { scenario: baseline.scenario.name, file: files.baseline },
    current: { scenario: current.scenario.name, file: files.current },
    tolerance,
    regressed: metrics.some((m) => m.status === 'regressed'),
    metrics,
  };
}

export function capacityComparisonMarkdown(c: CapacityComparison): string {
  const num = (v: number | null): string => (v === null ? '—' : fmt(v));
  const rows = c.metrics.map((m) => `| knee ${m.search} | ${num(m.baseline)} | ${num(m.current)} | ${num(m.floor)} | ${m.status.toUpperCase()} | ${m.reason} |`);
  return [
    `## Capacity regression gate: ${c.regressed ? 'REGRESSED' : 'no regression'}`,
    '',
    `baseline ${c.baseline.file} · current ${c.current.file} · tolerance ${Math.round(c.tolerance * 100)}%`,
    '',
    '| metric | baseline req/s | current req/s | floor req/s | status | why |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
