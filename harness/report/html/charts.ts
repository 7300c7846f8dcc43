import type { ResultDocument } from '../result.js';
import { renderSvg } from './echarts-svg.js';
import { distributionOption } from './distribution-chart.js';
import { resourceCharts } from './resource-charts.js';
import { faultAreas, pairs, runEndSeconds, stallAreas } from './series.js';

export interface Chart {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

// The last second may run past the scenario's end (late completions): its label would crowd the one before.
const xSeconds = (r: ResultDocument): object => ({ type: 'value', name: 's', min: 0, max: Math.ceil(runEndSeconds(r)), nameGap: 8, axisLabel: { showMaxLabel: false } });

function latencyChart(r: ResultDocument): Chart {
  const slo = r.slo.latencyP95Ms;
  const server = r.server && 'p95Series' in r.server && r.server.p95Series.points.length > 0 ? r.server.p95Series : undefined;
  const line = (name: string, pick: (w: ResultDocument['timeline'][number]) => number | null, extra: object = {}): object => ({ name, type: 'line', showSymbol: false, connectNulls: false, data: pairs(r, pick), ...extra });
  const svg = renderSvg({
    xAxis: xSeconds(r),
    // The axis always reaches the SLO, so its line is drawn even when every second is far below it.
    yAxis: { type: 'log', name: 'ms (log)', logBase: 10, max: (v: { max: number }) => 10 ** Math.ceil(Math.log10(Math.max(v.max, slo * 1.5))) },
    series: [
      line('p50', (w) => w.p50Ms, { markArea: { silent: true, label: { color: '#842029', position: 'insideTop' }, data: [...faultAreas(r).data, ...stallAreas(r)] } }),
      line('p95', (w) => w.p95Ms, { markLine: { silent: true, symbol: 'none', lineStyle: { color: '#dc3545', type: 'dashed' }, label: { formatter: `SLO p95 ${slo} ms`, position: 'insideEndTop' }, data: [{ yAxis: slo }] } }),
      line('p99', (w) => w.p99Ms),
      ...(server ? [{ name: 'server p95', type: 'line', showSymbol: false, lineStyle: { type: 'dotted', width: 2 }, data: server.points.filter(([t]) => t >= 0) }] : []),
    ],
  });
  const serverNote = server ? `; dotted: the servers' p95 from Prometheus (${server.query}, each point over the 3 s around it, interpolated within the histogram's buckets)` : '';
  return { id: 'latency', title: 'Latency per second', caption: `p50, p95 and p99 of the requests meant to be sent in each second (${r.latency.over}; log scale); fault windows shaded red, recovery windows amber${r.harnessLag?.stalledSeconds.length ? ', seconds in which the harness itself stalled grey' : ''}; dashed line: the SLO (p95 ${slo} ms)${serverNote}.`, svg };
}

function throughputChart(r: ResultDocument): Chart {
  const svg = renderSvg({
    xAxis: xSeconds(r),
    yAxis: [
      { type: 'value', name: 'req/s' },
      { type: 'value', name: 'failures/s', minInterval: 1, splitLine: { show: false } },
    ],
    series: [
      { name: 'arrivals/s', type: 'line', showSymbol: false, data: pairs(r, (w) => w.arrivals), markArea: { silent: true, label: { color: '#842029', position: 'insideTop' }, ...faultAreas(r) } },
      { name: '5xx/s', type: 'bar', stack: 'failures', yAxisIndex: 1, itemStyle: { color: '#dc3545' }, data: pairs(r, (w) => w.status5xx) },
      { name: 'transport errors/s', type: 'bar', stack: 'failures', yAxisIndex: 1, itemStyle: { color: '#6f42c1' }, data: pairs(r, (w) => w.transportErrors.total) },
      { name: 'dropped/s', type: 'bar', stack: 'failures', yAxisIndex: 1, itemStyle: { color: '#fd7e14' }, data: pairs(r, (w) => w.dropped) },
    ],
  });
  return { id: 'throughput', title: 'Throughput and failures per second', caption: 'Requests meant to be sent per second (left axis); of them, 5xx responses, transport errors (refused, reset, timeout, closed) and arrivals dropped at maxInFlight, apart (right axis). Every outcome is placed at its send time.', svg };
}

function distributionChart(r: ResultDocument): Chart {
  return {
    id: 'distribution',
    title: 'Latency distribution per phase',
    caption: 'HdrHistogram percentile plot of each phase span: the x axis is in "nines" (log scale of 1/(1−percentile)), so the tail spreads out; the y axis is logarithmic.',
    svg: renderSvg(distributionOption(r), 960, 360),
  };
}

/** Every chart of the report, in reading order; resource charts only when the run sampled resources. */
export function buildCharts(r: ResultDocument): Chart[] {
  return [latencyChart(r), throughputChart(r), distributionChart(r), ...resourceCharts(r)];
}
