import Table from 'cli-table3';
import type { CheckResult } from '../verdict/types.js';
import { actualText } from './format.js';
import { markdownTable, xmlEscape as x } from './text-formats.js';

/**
 * The seed's "Complete Verification Summary": ten rows, SC-001..SC-010, whatever the run had. A
 * row comes from the run's check of that id (conformance checks for SC-001..SC-006, the DR drill
 * for SC-007, the Game Day for SC-008..SC-010); a criterion the run did not judge is NOT EVALUATED
 * with the reason, never a pass.
 */
export const SEED_CRITERIA: readonly { id: string; name: string; target: string; missing: string }[] = [
  { id: 'SC-001', name: 'Cost labels present', target: '4 labels', missing: 'no conformance check SC-001 in this run' },
  { id: 'SC-002', name: 'OpenCost query by team', target: 'Returns data', missing: 'no conformance check SC-002 in this run' },
  { id: 'SC-003', name: 'VPA recommendations', target: 'Within 24h', missing: 'no conformance check SC-003 in this run' },
  { id: 'SC-004', name: 'Velero schedule daily', target: '2 AM UTC', missing: 'no conformance check SC-004 in this run' },
  { id: 'SC-005', name: '30-day retention', target: '720h', missing: 'no conformance check SC-005 in this run' },
  { id: 'SC-006', name: 'Pre-backup hook success', target: 'Runs', missing: 'no conformance check SC-006 in this run' },
  { id: 'SC-007', name: 'Restore within RTO', target: '30 min', missing: 'no disaster-recovery drill in this run' },
  { id: 'SC-008', name: 'Pod recovery time', target: '< 30s', missing: 'no pod-kill Game Day check SC-008 in this run' },
  { id: 'SC-009', name: 'No 5xx during failure', target: '0', missing: 'no Game Day check SC-009 in this run' },
  { id: 'SC-010', name: 'P95 latency during failure', target: '< 500ms', missing: 'no Game Day check SC-010 in this run' },
];

export type CheckStatus = 'PASS' | 'FAIL' | 'NOT EVALUATED';

export function checkStatus(c: Pick<CheckResult, 'passed' | 'notEvaluated'>): CheckStatus {
  return c.notEvaluated !== undefined ? 'NOT EVALUATED' : c.passed ? 'PASS' : 'FAIL';
}

export interface SummaryRow {
  id: string;
  criterion: string;
  target: string;
  actual: string;
  status: CheckStatus;
  /** Why not evaluated, or what failed. */
  note: string;
}

/** The run renders the ten-row table when it judged any conformance criterion (the whole seed's spec). */
export function hasVerificationSummary(checks: readonly CheckResult[]): boolean {
  return checks.some((c) => c.metric.startsWith('conformance.'));
}

export function verificationRows(checks: readonly CheckResult[]): SummaryRow[] {
  return SEED_CRITERIA.map((sc) => {
    const c = checks.find((k) => k.id === sc.id);
    if (!c) return { id: sc.id, criterion: sc.name, target: sc.target, actual: 'not evaluated', status: 'NOT EVALUATED', note: sc.missing };
    const status = checkStatus(c);
    const actual = status === 'NOT EVALUATED' ? 'not evaluated' : (c.shown ?? actualText(c));
    const note = status === 'NOT EVALUATED' ? (c.notEvaluated ?? '') : status === 'FAIL' ? (c.detail ?? '') : '';
    return { id: sc.id, criterion: `${sc.name}`, target: c.expected ?? c.target, actual, status, note };
  });
}

const counts = (rows: readonly SummaryRow[]): string => {
  const n = (s: CheckStatus): number => rows.filter((r) => r.status === s).length;
  return `${n('PASS')} passed, ${n('FAIL')} failed, ${n('NOT EVALUATED')} not evaluated`;
};

export function verificationConsole(rows: readonly SummaryRow[], opts: { color?: boolean } = {}): string {
  const table = new Table({ head: ['Success Criterion', 'Target', 'Actual', 'Status'], style: { head: opts.color ? ['bold'] : [], border: [] }, colWidths: [32, 36, 40, 15], wordWrap: true });
  for (const r of rows) table.push([`${r.id}: ${r.criterion}`, r.target, r.note ? `${r.actual} (${r.note})` : r.actual, r.status]);
  return [`Verification Summary (SC-001..SC-010): ${counts(rows)}`, table.toString()].join('\n');
}

export function verificationMarkdown(rows: readonly SummaryRow[]): string {
  const icon: Record<CheckStatus, string> = { PASS: '✅ PASS', FAIL: '❌ FAIL', 'NOT EVALUATED': '⚪ NOT EVALUATED' };
  const table = markdownTable(['Success Criterion', 'Target', 'Actual', 'Status'], rows.map((r) => [`${r.id}: ${r.criterion}`, r.target, r.note ? `${r.actual} (${r.note})` : r.actual, icon[r.status]]));
  return [`### Verification Summary (SC-001..SC-010): ${counts(rows)}`, '', table].join('\n');
}

/** A JUnit suite of the ten criteria: a failure per FAIL, skipped (with the reason) per NOT EVALUATED. */
export function verificationJunit(rows: readonly SummaryRow[], scenario: string): string[] {
  const failures = rows.filter((r) => r.status === 'FAIL').length;
  const skipped = rows.filter((r) => r.status === 'NOT EVALUATED').length;
  const cases = rows.map((r) => {
    const open = `    <testcase classname="gameday.${x(scenario)}.verification-summary" name="${x(`${r.id}: ${r.criterion}`)}" time="0">`;
    const line = `target ${r.target}, actual ${r.actual}${r.note ? ` (${r.note})` : ''}`;
    const body = r.status === 'FAIL' ? `<failure message="${x(line)}" type="${r.id}">${x(line)}</failure>` : r.status === 'NOT EVALUATED' ? `<skipped message="${x(`not evaluated: ${r.note}`)}"/>` : `<system-out>${x(line)}</system-out>`;
    return `${open}\n      ${body}\n    </testcase>`;
  });
  return [`  <testsuite name="verification-summary" tests="${rows.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0">`, ...cases, '  </testsuite>'];
}
