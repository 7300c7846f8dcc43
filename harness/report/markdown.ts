import { renderComparisonMarkdown } from './compare-markdown.js';
import { hasVerificationSummary, verificationMarkdown, verificationRows } from './verification-summary.js';
import { actualText, formatMsOrNa } from './format.js';
import type { Comparison } from './gate/types.js';
import { markdownTable } from './text-formats.js';
import type { ResultDocument } from './result.js';
import { bucketText } from '../observe/server-compare.js';
import { windowName } from './server-lines.js';
import { describeRecovery } from '../timeline/platform-rto.js';

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

/** How each replica a fault took out came back, phase by phase ("40.0 s in ContainerCreating"), when the journal had its phases. */
function replaced(r: ResultDocument): string[] {
  const lines = r.rto.faults.flatMap((f) => f.platform.replicas.filter((x) => (x.phases?.length ?? 0) > 0).map((x) => `- ${f.fault}: ${describeRecovery(x)}`));
  return lines.length === 0 ? [] : ['', '#### Replicas replaced', '', ...lines];
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

/**
 * The servers' figures beside the clients' per window (a skipped cross-check is a note in figures()),
 * and, folded, each window's [range] arithmetic and why the two views differ.
 */
function serverSide(r: ResultDocument): string[] {
  const b = r.server;
  if (!b || 'skipped' in b) return [];
  const source = b.existing ? `the existing Prometheus at ${b.url}${b.selector ? `, series ${b.selector}` : ''}` : 'the Prometheus the platform ran';
  const rows = b.phases.map((p) => [
    windowName(p),
    `${p.server.requests} / ${p.client.responses}`,
    `${p.server.status5xx} / ${p.client.status5xx}`,
    String(p.server.rate5xxPerS),
    String(p.client.transportErrors),
    `${bucketText(p.server.p95)} / ${formatMsOrNa(p.client.p95Ms)}`,
    `${bucketText(p.server.p99)} / ${formatMsOrNa(p.client.p99Ms)}`,
  ]);
  const seed = (p: (typeof b.phases)[number]): string[] =>
    [p.server.seedRate5xx, p.server.seed5xx, { query: p.server.p95.seedQuery, value: p.server.p95.seedMs }].flatMap((q) => (q ? [`  - \`${q.query}\` = ${q.value ?? 'no data'}`] : []));
  const details = b.phases.flatMap((p) => [`- **${windowName(p)}**: ${p.server.arithmetic}`, ...seed(p), ...p.explained.map((e) => `  - ${e}`)]);
  const gaps = b.scrapeGaps.map((g) => `${g.replica} last scraped at ${formatMsOrNa(g.lastScrapeMs)}${g.goneByMs === null ? '' : `, gone at ${formatMsOrNa(g.goneByMs)}`}`);
  return [
    '',
    `#### Server side (${source}, ${b.scrapeIntervalS} s scrapes) beside the clients`,
    '',
    markdownTable(['Window', 'Requests servers / clients', '5xx servers / clients', 'Server 5xx/s', 'Transport errors (clients only)', 'p95 servers / clients', 'p99 servers / clients'], rows),
    ...(gaps.length > 0 ? ['', `Scrape gaps (counters lost with the process): ${gaps.join('; ')}.`] : []),
    '',
    '<details><summary>Windows and why the views differ</summary>',
    '',
    ...details,
    '',
    '</details>',
  ];
}

/** summary.md: the verdict, the checks, and the baseline comparison when there is one. */
export function renderMarkdown(r: ResultDocument, comparison?: Comparison): string {
  const rows = r.checks.map((c) => [c.id, c.name, c.target, c.notEvaluated !== undefined ? `not evaluated (${c.notEvaluated})` : (c.shown ?? actualText(c)), c.notEvaluated !== undefined ? '⚪ NOT EVALUATED' : c.passed ? '✅ PASS' : '❌ FAIL']);
  return [
    headline(r),
    '',
    markdownTable(['Check', 'Name', 'Target', 'Actual', 'Status'], rows),
    '',
    ...(hasVerificationSummary(r.checks) ? [verificationMarkdown(verificationRows(r.checks)), ''] : []),
    figures(r),
    ...replaced(r),
    ...perRequest(r),
    ...serverSide(r),
    '',
    ...(comparison ? [renderComparisonMarkdown(comparison)] : []),
  ].join('\n');
}
