import type { ResultDocument } from '../result.js';
import { renderSvg } from './echarts-svg.js';
import type { Chart } from './charts.js';
import { faultAreas } from './series.js';

type Loose = Record<string, unknown>;

/** One resource's samples: [run seconds, value]. */
export interface ResourceSeries {
  name: string;
  unit: string;
  points: Array<[number, number]>;
}

const TIME_FIELDS = ['atMs', 'tMs', 'timeMs', 'startMs'];

function point(p: unknown): [number, number] | undefined {
  if (Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number') return [p[0] / 1000, p[1]];
  if (!p || typeof p !== 'object') return undefined;
  const o = p as Loose;
  const t = TIME_FIELDS.map((f) => o[f]).find((v) => typeof v === 'number') as number | undefined;
  return t !== undefined && typeof o['value'] === 'number' ? [t / 1000, o['value']] : undefined;
}

function seriesOf(name: string, s: unknown): ResourceSeries | undefined {
  const o = (s && typeof s === 'object' ? s : {}) as Loose;
  const raw = Array.isArray(s) ? s : (o['points'] ?? o['samples'] ?? o['values']);
  if (!Array.isArray(raw)) return undefined;
  const points = raw.map(point).filter((p): p is [number, number] => p !== undefined);
  const label = ([o['name'], o['resource'], o['metric']].find((v) => typeof v === 'string') as string | undefined) ?? name;
  const who = [o['replica'], o['target']].find((v) => typeof v === 'string');
  // Without a unit, each resource gets its own chart (bytes and counts never share an axis).
  const unit = typeof o['unit'] === 'string' ? o['unit'] : label;
  return points.length ? { name: who ? `${label} ${who}` : label, unit, points } : undefined;
}

/**
 * Resource samples (pool gauges, connections, RSS, fds), when result.json has them under
 * `resources.series` (an array, or a map by resource name). Another stage adds them; their
 * absence is normal and yields no chart.
 */
export function resourceSeries(r: ResultDocument): ResourceSeries[] {
  const resources = (r as unknown as Loose)['resources'];
  const series = resources && typeof resources === 'object' ? (resources as Loose)['series'] : undefined;
  if (!series || typeof series !== 'object') return [];
  const entries = Array.isArray(series) ? series.map((s, i) => [String(i), s] as const) : Object.entries(series as Loose);
  return entries.map(([name, s]) => seriesOf(name, s)).filter((s): s is ResourceSeries => s !== undefined);
}

/** 80000000 → "80M": axis labels that fit. */
function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

/** One chart per unit (or per resource when no unit is given), so that bytes and counts never share an axis. */
export function resourceCharts(r: ResultDocument): Chart[] {
  const byUnit = new Map<string, ResourceSeries[]>();
  for (const s of resourceSeries(r)) byUnit.set(s.unit, [...(byUnit.get(s.unit) ?? []), s]);
  return [...byUnit].map(([unit, list], i) => ({
    id: `resources-${i}`,
    title: `Resources${unit ? ` (${unit})` : ''}`,
    caption: 'Sampled once a second through the run; fault windows shaded.',
    svg: renderSvg({
      xAxis: { type: 'value', name: 's', min: 0 },
      yAxis: { type: 'value', name: unit, axisLabel: { formatter: compact } },
      series: list.map((s, j) => ({ name: s.name, type: 'line', showSymbol: false, data: s.points, ...(j === 0 ? { markArea: { silent: true, ...faultAreas(r) } } : {}) })),
    }),
  }));
}
