import { renderComparisonMarkdown } from './compare-markdown.js';
import { actualText, formatMsOrNa } from './format.js';
import type { Comparison } from './gate/types.js';
import { markdownTable } from './text-formats.js';
import type { ResultDocument } from './result.js';

function headline(r: ResultDocument): string {
  const passed = r.checks.filter((c) => c.passed).length;
  const icon = r.passed ? '✅' : '❌';
  const verdict = r.runStatus === 'completed' ? r.verdict.toUpperCase() : `${r.runStatus.toUpperCase()} (verdict ${r.verdict})`;
  return `## ${icon} ${r.scenario.name}: ${verdict} — ${passed}/${r.checks.length} checks passed`;
}

function figures(r: ResultDocument): string {
  const q = r.requests;
  return [
    `**RTO** platform ${formatMsOrNa(r.rto.platformMs)}, client ${formatMsOrNa(r.rto.clientMs)}`,
    `**requests** ${q.arrivals} (${q.failures} not served: ${q.status5xx} 5xx, ${q.transportErrors} transport errors, ${q.dropped} dropped; ${q.unexpected} unexpected statuses)`,
    `**latency** p50 ${formatMsOrNa(r.latency.p50Ms)}, p95 ${formatMsOrNa(r.latency.p95Ms)}, p99 ${formatMsOrNa(r.latency.p99Ms)}`,
  ].join(' · ') + r.caveats.map((c) => `\n\n> **note:** ${c}`).join('');
}

/** Each workload request after warm-up, when the workload names its requests. */
function perRequest(r: ResultDocument): string[] {
  const rows = Object.entries(r.requests.byName).map(([name, f]) => [
    name,
    String(f.arrivals),
    formatMsOrNa(f.p50Ms),
    formatMsOrNa(f.p95Ms),
    formatMsOrNa(f.p99Ms),
    String(f.status5xx),
    String(f.transportErrors),
    String(f.unexpected),
  ]);
  if (rows.length === 0) return [];
  return ['', '#### Per request (after warm-up)', '', markdownTable(['Request', 'Arrivals', 'p50', 'p95', 'p99', '5xx', 'Transport errors', 'Unexpected'], rows)];
}

/** summary.md: the verdict, the checks, and the baseline comparison when there is one. */
export function renderMarkdown(r: ResultDocument, comparison?: Comparison): string {
  const rows = r.checks.map((c) => [c.id, c.name, c.target, actualText(c), c.passed ? '✅ PASS' : '❌ FAIL']);
  return [
    headline(r),
    '',
    markdownTable(['Check', 'Name', 'Target', 'Actual', 'Status'], rows),
    '',
    figures(r),
    ...perRequest(r),
    '',
    ...(comparison ? [renderComparisonMarkdown(comparison)] : []),
  ].join('\n');
}
