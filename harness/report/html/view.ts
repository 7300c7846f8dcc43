import type { JournalEvent } from '../../core/journal.js';
import { checkStatus, hasVerificationSummary, verificationRows } from '../verification-summary.js';
import { serverSection } from '../server-lines.js';
import { actualText, detailText, formatMsOrNa, formatValue } from '../format.js';
import type { Comparison } from '../gate/types.js';
import type { ResultDocument } from '../result.js';
import { requestOverPhases, type RequestCounts, type RequestFigures } from '../requests.js';
import type { Chart } from './charts.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

function journalRow(e: JournalEvent): Record<string, string> {
  const detail = Object.entries(e.detail ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return { at: `${e.atMs >= 0 ? '+' : '−'}${(Math.abs(e.atMs) / 1000).toFixed(3)} s`, wall: new Date(e.wallMs).toISOString().slice(11, 23), source: e.source, type: e.type, target: e.target ?? '', fault: e.fault ?? '', detail };
}

function rerun(r: ResultDocument): Array<{ name: string; value: string }> {
  const m = r.meta;
  const host = m['host'] as { platform?: string; arch?: string; cpus?: number } | undefined;
  const commit = str(m['gitCommit']);
  const rows: Array<[string, string | undefined]> = [
    ['command', str(m['command'])],
    ['scenario', str(m['scenarioFile']) ?? r.scenario.file],
    ['git commit', commit ? `${commit}${m['gitDirty'] ? ' (with uncommitted changes)' : ''}` : undefined],
    ['gameday', str(m['gameday'])],
    ['node', str(m['node'])],
    ['undici', str(m['undici'])],
    ['host', host ? `${host.platform}/${host.arch}, ${host.cpus} CPUs` : undefined],
    ['started', str(m['startedAt'])],
    ['result schema', String(r.schemaVersion)],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined).map(([name, value]) => ({ name, value }));
}

function comparisonRows(c: Comparison): Array<Record<string, string>> {
  return c.metrics.map((m) => ({
    label: m.label,
    baseline: formatValue(m.baseline, m.unit),
    current: formatValue(m.current, m.unit),
    status: m.status,
    reason: m.reason,
  }));
}

/** The servers' figures per window on both sides (informational, as in summary.md), or why there are none; null without them. */
function comparisonServer(c: Comparison): { note: string; unavailable: string | null; rows: Array<Record<string, string>> } | null {
  const s = c.server;
  if (!s) return null;
  return { note: s.note, unavailable: s.unavailable ?? null, rows: s.rows.map((r) => ({ window: r.window, figure: r.figure, baseline: r.baseline, current: r.current, change: r.change })) };
}

function requestRow(name: string, f: RequestFigures, c: RequestCounts): Record<string, string> {
  return {
    name,
    expected: f.expectedStatuses ? f.expectedStatuses.join(', ') : 'below 400',
    arrivals: String(c.arrivals),
    rate: c.ratePerSec === null ? 'n/a' : `${c.ratePerSec.toFixed(1)}/s`,
    p50: formatMsOrNa(c.p50Ms),
    p95: formatMsOrNa(c.p95Ms),
    p99: formatMsOrNa(c.p99Ms),
    status5xx: String(c.status5xx),
    transportErrors: String(c.transportErrors),
    dropped: String(c.dropped),
    unexpected: String(c.unexpected),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * The per-request tables: over every fault and recovery span (open), after warm-up, and per phase
 * span (each a <details> to open: the page has no script). Null without named requests.
 */
function requestSections(r: ResultDocument): Array<{ id: string; title: string; open: boolean; rows: Array<Record<string, string>> }> | null {
  const byName = Object.entries(r.requests.byName);
  if (byName.length === 0) return null;
  const hdr = r.hdr.requests;
  const over = (indexes: number[]) => byName.map(([name, f]) => requestRow(name, f, requestOverPhases(r.phases, f, hdr[name] ?? [], indexes)));
  const faulted = r.phases.filter((p) => p.span.phase === 'fault' || p.span.phase === 'recovery').map((p) => p.index);
  const sections = [];
  if (faulted.length > 0) sections.push({ id: 'fault-recovery', title: 'fault + recovery (every fault)', open: true, rows: over(faulted) });
  sections.push({ id: 'measured', title: 'after warm-up', open: faulted.length === 0, rows: byName.map(([name, f]) => requestRow(name, f, f)) });
  for (const p of r.phases) {
    const title = `${p.span.phase}${p.span.fault ? ` ${p.span.fault}` : ''} (${seconds(p.span.startMs)} – ${seconds(p.span.endMs)})`;
    sections.push({ id: `phase-${p.index}`, title, open: false, rows: byName.map(([name, f]) => requestRow(name, f, f.phases[p.index] ?? f)) });
  }
  return sections;
}

/** Everything the template shows, already formatted: the template only lays it out. */
export function reportView(r: ResultDocument, charts: Chart[], comparison?: Comparison): object {
  const q = r.requests;
  return {
    title: `${r.scenario.name} — gameday report`,
    scenario: { name: r.scenario.name, description: r.scenario.description ?? '' },
    passed: r.passed,
    verdict: r.runStatus === 'completed' ? r.verdict.toUpperCase() : `${r.runStatus.toUpperCase()} (verdict ${r.verdict})`,
    passedCount: r.checks.filter((c) => c.passed).length,
    checks: r.checks.map((c) => ({ id: c.id, name: c.name, target: c.target, actual: c.shown ?? actualText(c), detail: c.notEvaluated !== undefined ? `not evaluated: ${c.notEvaluated}` : detailText(c), passed: c.passed, status: checkStatus(c), statusClass: c.notEvaluated !== undefined ? 'muted' : c.passed ? 'pass' : 'fail' })),
    verification: hasVerificationSummary(r.checks) ? verificationRows(r.checks).map((row) => ({ ...row, statusClass: row.status === 'PASS' ? 'pass' : row.status === 'FAIL' ? 'fail' : 'muted' })) : null,
    figures: [
      { name: 'platform RTO', value: formatMsOrNa(r.rto.platformMs) },
      { name: 'client RTO', value: formatMsOrNa(r.rto.clientMs) },
      { name: 'requests', value: `${q.arrivals} arrivals, ${q.failures} not served (${q.status5xx} 5xx, ${q.transportErrors} transport errors, ${q.dropped} dropped)` },
      { name: 'latency', value: `p50 ${formatMsOrNa(r.latency.p50Ms)} · p95 ${formatMsOrNa(r.latency.p95Ms)} · p99 ${formatMsOrNa(r.latency.p99Ms)} · max ${formatMsOrNa(r.latency.maxMs)} — over ${r.latency.over}` },
      { name: 'served only', value: `p50 ${formatMsOrNa(r.latency.served.p50Ms)} · p95 ${formatMsOrNa(r.latency.served.p95Ms)} · p99 ${formatMsOrNa(r.latency.served.p99Ms)} (responses below 500)` },
    ],
    caveats: r.caveats,
    server: serverSection(r.server),
    requests: requestSections(r),
    charts,
    disruptions: r.disruptions.map((d) => ({ from: formatMsOrNa(d.startMs), to: formatMsOrNa(d.endMs), length: formatMsOrNa(d.durationMs), failures: d.failures, fault: (d.fault ?? 'no fault of this run') + (d.harnessStall ? ' — coincides with a harness stall: possibly the harness\'s own' : '') })),
    journal: r.journal.map(journalRow),
    rerun: rerun(r),
    comparison: comparison ? { regressed: comparison.regressed, rows: comparisonRows(comparison), server: comparisonServer(comparison) } : null,
  };
}
