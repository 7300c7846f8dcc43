import type { ResourceSeries } from '../../observe/series.js';
import type { ResultDocument } from '../result.js';
import type { Chart } from './charts.js';
import { renderSvg } from './echarts-svg.js';
import { faultAreas } from './series.js';

interface ResourceGroup {
  id: string;
  title: string;
  unit: string;
  /** Which series belong here. */
  pick: (s: ResourceSeries) => boolean;
}

/** Counts and bytes never share an axis: connections and pool gauges (sums), then per-replica RSS and fds. */
const GROUPS: ResourceGroup[] = [
  { id: 'resources-db', title: 'Database connections and pool', unit: 'connections', pick: (s) => s.replica === 'total' && (s.resource === 'db_connections' || s.resource.startsWith('db_pool_')) },
  { id: 'resources-rss', title: 'Replica memory (RSS)', unit: 'bytes', pick: (s) => s.resource === 'rss_bytes' && s.replica !== 'total' },
  { id: 'resources-fds', title: 'Replica open file descriptors', unit: 'fds', pick: (s) => s.resource === 'open_fds' && s.replica !== 'total' },
];

/** 80000000 → "80M": axis labels that fit. */
function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

function chart(r: ResultDocument, g: ResourceGroup, list: ResourceSeries[]): Chart {
  return {
    id: g.id,
    title: g.title,
    caption: 'Sampled once a second through the run (local platform); fault windows shaded, recovery windows amber.',
    svg: renderSvg({
      xAxis: { type: 'value', name: 's', min: 0, axisLabel: { showMaxLabel: false } },
      yAxis: { type: 'value', name: g.unit, axisLabel: { formatter: compact } },
      series: list.map((s, i) => ({
        name: g.id === 'resources-db' ? s.resource : s.replica,
        type: 'line',
        showSymbol: false,
        data: s.points.map(([tMs, v]) => [tMs / 1000, v]),
        ...(i === 0 ? { markArea: { silent: true, ...faultAreas(r) } } : {}),
      })),
    }),
  };
}

/** Resource charts when the run sampled resources (result.resources); none otherwise. */
export function resourceCharts(r: ResultDocument): Chart[] {
  const series = r.resources?.series ?? [];
  return GROUPS.map((g) => ({ g, list: series.filter((s) => g.pick(s) && s.points.length > 0) }))
    .filter(({ list }) => list.length > 0)
    .map(({ g, list }) => chart(r, g, list));
}
