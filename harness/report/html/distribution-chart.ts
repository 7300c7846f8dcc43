import type { ResultDocument } from '../result.js';
import type { ChartOption } from './echarts-svg.js';

/** 1 / (1 − q): 1 at the median's left edge (0 %), 10 at 90 %, 100 at 99 %... */
function nines(percentile: number, responses: number): number {
  return percentile >= 100 ? Math.max(10, responses) : 1 / (1 - percentile / 100);
}

function label(x: number): string {
  const p = 100 * (1 - 1 / x);
  return p === 0 ? '0%' : `${p.toFixed(Math.max(0, Math.round(Math.log10(x)) - 2))}%`;
}

function seriesName(d: ResultDocument['latencyDistribution'][number]): string {
  return `${d.phase}${d.fault ? ` (${d.fault})` : ''}${d.phaseIndex > 0 && d.phase === 'warmup' ? ` #${d.phaseIndex}` : ''}`;
}

/** The HdrHistogram percentile plot: one line per phase span. */
export function distributionOption(r: ResultDocument): ChartOption {
  const withData = r.latencyDistribution.filter((d) => d.points.length > 0);
  const maxX = Math.max(10, ...withData.map((d) => nines(100, d.responses)));
  return {
    xAxis: { type: 'log', logBase: 10, min: 1, max: 10 ** Math.ceil(Math.log10(maxX)), name: 'percentile', axisLabel: { formatter: label } },
    yAxis: { type: 'log', logBase: 10, name: 'ms (log)' },
    series: withData.map((d) => ({
      name: seriesName(d),
      type: 'line',
      step: 'end',
      showSymbol: false,
      data: d.points.map((p) => [nines(p.percentile, d.responses), Math.max(p.valueMs, 0.001)]),
    })),
  };
}
