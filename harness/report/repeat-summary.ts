import { renderComparisonMarkdown } from './compare-markdown.js';
import { formatMsOrNa } from './format.js';
import type { LoadedResult } from './gate/compare-results.js';
import type { Comparison } from './gate/types.js';
import { markdownTable } from './text-formats.js';

/** summary.md of a `--repeat N` run: one row per repetition, then the gate over all of them. */
export function repeatSummary(results: readonly LoadedResult[], comparison?: Comparison): string {
  const first = results[0]?.doc;
  const passed = results.filter((r) => r.doc.passed).length;
  const rows = results.map((r, i) => {
    const d = r.doc;
    return [String(i + 1), d.passed ? '✅ PASS' : `❌ ${d.verdict.toUpperCase()}`, `${d.checks.filter((c) => c.passed).length}/${d.checks.length}`, formatMsOrNa(d.latency.p95Ms), formatMsOrNa(d.latency.p99Ms), formatMsOrNa(d.rto.clientMs), formatMsOrNa(d.rto.platformMs), String(d.requests.status5xx + d.requests.transportErrors), r.file];
  });
  return [
    `## ${passed === results.length ? '✅' : '❌'} ${first?.scenario.name ?? 'gameday'}: ${passed}/${results.length} repetitions held the spec`,
    '',
    markdownTable(['Run', 'Verdict', 'Checks', 'p95', 'p99', 'Client RTO', 'Platform RTO', 'Failures', 'Result'], rows),
    '',
    ...(comparison ? [renderComparisonMarkdown(comparison)] : []),
  ].join('\n');
}
