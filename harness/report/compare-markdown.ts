import { formatValue } from './format.js';
import type { Comparison, MetricComparison } from './gate/types.js';
import { markdownTable } from './text-formats.js';

const STATUS: Record<MetricComparison['status'], string> = {
  regressed: '❌ regressed',
  inconclusive: '❔ inconclusive',
  'within-noise': '⚠️ within noise',
  ok: '✅ ok',
  'n/a': '➖ n/a',
};

function change(m: MetricComparison): string {
  if (m.baseline === null || m.current === null) return 'n/a';
  const delta = m.current - m.baseline;
  const pct = m.ratio === null ? '' : ` (${m.ratio >= 1 ? '+' : ''}${((m.ratio - 1) * 100).toFixed(1)}%)`;
  return `${delta >= 0 ? '+' : ''}${formatValue(delta, m.unit)}${pct}`;
}

function interval(m: MetricComparison): string {
  const i = m.interval;
  if (!i) return 'point (median of runs)';
  const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
  const runs = i.runNoise ? `; run-to-run sd ${(i.runNoise.sdLog * 100).toFixed(0)}% over ${i.runs.baseline}+${i.runs.current} runs` : '';
  return `${pct(i.lowerRatio)} … ${pct(i.upperRatio)} (bootstrap, ${i.windows.baseline}+${i.windows.current} s${runs})`;
}

function tolerance(m: MetricComparison): string {
  return `+${(m.tolerance.relative * 100).toFixed(0)}% or +${formatValue(m.tolerance.absolute, m.unit)}`;
}

function load(c: Comparison): string {
  const f = c.foreignCores;
  return f ? ` Other load on the machine: ${f.baseline.toFixed(2)} vs ${f.current.toFixed(2)} cores.` : '';
}

/** The servers' figures per window beside the gate (informational rows), or why there are none. */
function serverRows(c: Comparison): string[] {
  const s = c.server;
  if (!s) return [];
  const head = `#### Server side (Prometheus): ${s.note}`;
  if (s.unavailable) return [head, '', `No server rows: ${s.unavailable}.`, ''];
  return [head, '', markdownTable(['Window', 'Server figure', 'Baseline', 'Current', 'Change'], s.rows.map((r) => [r.window, r.figure, r.baseline, r.current, r.change])), ''];
}

/** The regression gate's verdict and diff table, in Markdown (summary.md, the PR check). */
export function renderComparisonMarkdown(c: Comparison): string {
  const rows = c.metrics.map((m) => [m.label, formatValue(m.baseline, m.unit), formatValue(m.current, m.unit), change(m), interval(m), tolerance(m), STATUS[m.status], m.reason]);
  const runs = (n: number): string => (n === 1 ? '1 run' : `${n} runs`);
  return [
    `### Regression gate: ${c.regressed ? '❌ REGRESSED' : '✅ no regression'}`,
    '',
    `Baseline ${c.baseline.scenario} (${runs(c.baseline.runs)}) vs current ${c.current.scenario} (${runs(c.current.runs)}).${load(c)}`,
    '',
    markdownTable(['Metric', 'Baseline', 'Current', 'Change', 'Interval', 'Tolerance', 'Status', 'Why'], rows),
    '',
    ...serverRows(c),
  ].join('\n');
}
