import type { CapacityDocument, CapacitySearch } from '../../capacity/document.js';
import type { MassTermination } from '../../capacity/recovery.js';
import { renderSvg } from './echarts-svg.js';

const SLO_LINE = { color: '#dc3545', type: 'dashed' };
const KNEE_LINE = { color: '#198754', type: 'solid', width: 2 };

/** Steps in rate order; a confirmation step at the same rate stays its own point. */
const byRate = (s: CapacitySearch): CapacitySearch['steps'] => [...s.steps].sort((a, b) => a.rate - b.rate);

/** A rate for a label: 191.67, not 191.6666. */
const r1 = (v: number): number => Math.round(v * 10) / 10;

function kneeMark(s: CapacitySearch): object[] {
  return s.knee.rate !== null ? [{ xAxis: s.knee.rate, lineStyle: KNEE_LINE, label: { formatter: `knee ${r1(s.knee.rate)}/s${s.knee.status === 'found' ? '' : ' (at least)'}`, position: 'insideEndTop' } }] : [];
}

/** Offered vs achieved req/s for one search: the diagonal is "keeping up"; the knee marked. */
export function throughputVsOffered(s: CapacitySearch, peak: number | undefined, width: number): string {
  const steps = byRate(s);
  const max = Math.max(1, ...steps.map((p) => p.rate));
  return renderSvg({
    title: { text: `${s.name}${s.replicas !== null ? ` (${s.replicas})` : ''}: achieved vs offered`, left: 'center', top: 0, textStyle: { fontSize: 12 } },
    legend: { top: 22 },
    grid: { left: 56, right: 24, top: 56, bottom: 40 },
    xAxis: { type: 'value', name: 'offered req/s', nameLocation: 'middle', nameGap: 24, min: 0, max: Math.ceil(max * 1.05) },
    yAxis: { type: 'value', name: 'req/s' },
    series: [
      { name: 'offered', type: 'line', showSymbol: false, lineStyle: { type: 'dotted', color: '#6c757d' }, itemStyle: { color: '#6c757d' }, data: [[0, 0], [max, max]] },
      {
        name: 'achieved',
        type: 'line',
        symbolSize: 6,
        data: steps.map((p) => [p.rate, p.achievedRate]),
        markLine: { silent: true, symbol: 'none', data: [...kneeMark(s), ...(peak !== undefined ? [{ xAxis: peak, lineStyle: { color: '#fd7e14', type: 'dashed' }, label: { formatter: `peak ${peak}/s`, position: 'insideEndBottom' } }] : [])] },
      },
    ],
  }, width, 300);
}

/** p95 vs offered rate for one search, log scale, with the SLO line and the knee. */
export function p95VsOffered(s: CapacitySearch, sloMs: number, width: number): string {
  const steps = byRate(s);
  return renderSvg({
    title: { text: `${s.name}: p95 vs offered`, left: 'center', top: 0, textStyle: { fontSize: 12 } },
    legend: { top: 22 },
    grid: { left: 56, right: 24, top: 56, bottom: 40 },
    xAxis: { type: 'value', name: 'offered req/s', nameLocation: 'middle', nameGap: 24, min: 0 },
    yAxis: { type: 'log', name: 'ms (log)', logBase: 10, max: (v: { max: number }) => 10 ** Math.ceil(Math.log10(Math.max(v.max, sloMs * 1.5))) },
    series: [
      {
        name: 'p95',
        type: 'line',
        symbolSize: 6,
        data: steps.filter((p) => p.p95Ms !== null).map((p) => [p.rate, Math.max(0.01, p.p95Ms as number)]),
        markLine: { silent: true, symbol: 'none', data: [{ yAxis: sloMs, lineStyle: SLO_LINE, label: { formatter: `SLO ${sloMs} ms`, position: 'insideEndTop' } }, ...kneeMark(s)] },
      },
    ],
  }, width, 300);
}

/** Capacity over time after the kill (ready replicas × per-replica rate), served req/s, and the 50/90/100 % points. */
export function recoveryChart(m: MassTermination): string {
  const last = m.readyCurve[m.readyCurve.length - 1];
  // The last second is cut short by the end of the load: not a rate.
  const seconds = m.seconds.slice(0, -1);
  const startS = Math.min(0, ...seconds.map((s) => s.second));
  const endS = Math.max(...seconds.map((s) => s.second + 1), (last?.atMs ?? 0) / 1000 + 1);
  const pre = Math.round(m.replicasBefore * m.perReplicaRate * 10) / 10;
  const capacity = [[startS, pre], [0, pre], ...m.readyCurve.map((p) => [p.atMs / 1000, p.capacityRate]), [endS, last?.capacityRate ?? 0]];
  const points = (['p50', 'p90', 'p100'] as const)
    .map((k) => ({ k, v: m.capacityBackMs[k] }))
    .filter((p): p is { k: 'p50' | 'p90' | 'p100'; v: number } => p.v !== null)
    .map((p) => ({ xAxis: p.v / 1000, lineStyle: { color: '#198754', type: 'dashed' }, label: { formatter: `${p.k.slice(1)} % at ${(p.v / 1000).toFixed(2)} s`, position: 'insideEndTop' } }));
  return renderSvg({
    legend: { top: 8 },
    grid: { left: 64, right: 64, top: 64, bottom: 48 },
    xAxis: { type: 'value', name: 's after the kill', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'req/s' },
    series: [
      { name: 'capacity (ready × per replica)', type: 'line', step: 'end', showSymbol: false, lineStyle: { width: 2 }, data: capacity, markLine: { silent: true, symbol: 'none', data: [{ xAxis: 0, lineStyle: { color: '#dc3545' }, label: { formatter: 'kill', position: 'insideEndTop' } }, ...points] } },
      { name: 'served req/s', type: 'line', showSymbol: false, data: seconds.map((s) => [s.second + 0.5, s.served]) },
      { name: 'offered req/s', type: 'line', showSymbol: false, lineStyle: { type: 'dotted' }, data: seconds.map((s) => [s.second + 0.5, s.arrivals]) },
    ],
  }, 960, 320);
}

/** Every chart of a capacity document, as inline SVG with titles. */
export function capacityCharts(doc: CapacityDocument): Array<{ title: string; caption: string; svgs: string[] }> {
  const charts: Array<{ title: string; caption: string; svgs: string[] }> = [];
  const searches = doc.searches.filter((s) => s.steps.length > 0);
  // Side by side: N, N-1 and each fault, two or three to a row.
  const width = searches.length >= 3 ? 320 : searches.length === 2 ? 480 : 960;
  if (searches.length > 0) {
    charts.push({ title: 'Achieved vs offered rate', caption: 'Served responses completed per second in each step\'s judged part against the rate offered; the dotted diagonal is keeping up; green: the knee (highest rate meeting the SLO), orange: the stated peak.', svgs: searches.map((s) => throughputVsOffered(s, doc.peak, width)) });
    charts.push({ title: 'p95 vs offered rate', caption: `p95 of every outcome meant to be sent in each step's judged part (log scale); dashed red: the SLO (${doc.slo.latencyP95Ms} ms); green: the knee.`, svgs: searches.map((s) => p95VsOffered(s, doc.slo.latencyP95Ms, width)) });
  }
  if (doc.massTermination) {
    charts.push({ title: 'Recovery after mass termination', caption: 'Capacity after the kill: ready replicas (readiness probe passing, from the journal) × the knee per replica, with 50, 90 and 100 % of the pre-fault capacity marked; the clients\' served and offered requests per second beside it (the load is a share of the knee, so they cannot show capacity above it).', svgs: [recoveryChart(doc.massTermination)] });
  }
  return charts;
}
