import Table from 'cli-table3';
import type { ResultDocument } from './result.js';
import { actualText, formatMsOrNa } from './format.js';
import { serverLines } from './server-lines.js';
import { checkStatus, hasVerificationSummary, verificationConsole, verificationRows } from './verification-summary.js';

/** The console summary: the spec table, like the seed's "Complete Verification Summary". */
export function renderSummary(r: ResultDocument, opts: { color?: boolean } = {}): string {
  const table = new Table({
    head: ['Success Criterion', 'Target', 'Actual', 'Status'],
    style: { head: opts.color ? ['bold'] : [], border: [] },
  });
  for (const c of r.checks) {
    const shown = c.shown ?? actualText(c);
    // Failure breakdowns are short and always shown; other details only explain a missing value.
    const note = c.detail && (c.actual === null || c.metric === 'requests.failures' || c.metric === 'requests.failureRatio') ? ` (${c.detail})` : '';
    const why = c.notEvaluated !== undefined ? ` (${c.notEvaluated})` : '';
    table.push([`${c.id}: ${c.name}`, c.target, shown + (why || note), checkStatus(c)]);
  }
  const req = r.requests;
  const lines = [
    '',
    table.toString(),
    ...(hasVerificationSummary(r.checks) ? [verificationConsole(verificationRows(r.checks), opts)] : []),
    `RTO: platform ${formatMsOrNa(r.rto.platformMs)}, client ${formatMsOrNa(r.rto.clientMs)}` +
      `   requests: ${req.arrivals} (${req.failures} failed: ${req.status5xx} 5xx, ${req.transportErrors} transport errors, ${req.dropped} dropped; ${req.unexpected} unexpected)` +
      `   latency p50 ${formatMsOrNa(r.latency.p50Ms)} p95 ${formatMsOrNa(r.latency.p95Ms)} p99 ${formatMsOrNa(r.latency.p99Ms)}`,
  ];
  for (const d of r.disruptions) {
    lines.push(`disruption ${formatMsOrNa(d.startMs)}–${formatMsOrNa(d.endMs)} (${formatMsOrNa(d.durationMs)}): ${d.failures} failures${d.fault ? `, during ${d.fault}` : ', no fault of this run'}${d.harnessStall ? ' (coincides with a harness stall: possibly the harness\'s own)' : ''}`);
  }
  lines.push(...serverLines(r.server));
  for (const c of r.caveats) lines.push(`note: ${c}`);
  const verdict = r.runStatus === 'completed' ? r.verdict.toUpperCase() : `${r.runStatus.toUpperCase()} (verdict ${r.verdict})`;
  lines.push(`${r.scenario.name}: ${verdict} — ${r.checks.filter((c) => c.passed).length}/${r.checks.length} checks passed${notEvaluated(r)}`);
  return lines.join('\n');
}

/** ", 2 not evaluated" when some checks could not be evaluated where the run was. */
export function notEvaluated(r: Pick<ResultDocument, 'checks'>): string {
  const n = r.checks.filter((c) => c.notEvaluated !== undefined).length;
  return n > 0 ? `, ${n} not evaluated` : '';
}
