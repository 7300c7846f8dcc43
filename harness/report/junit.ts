import type { CheckResult } from '../verdict/index.js';
import type { Comparison } from './gate/types.js';
import { actualText, formatValue } from './format.js';
import type { ResultDocument } from './result.js';
import { xmlEscape as x } from './text-formats.js';
import { bucketText } from '../observe/server-compare.js';
import { hasVerificationSummary, verificationJunit, verificationRows } from './verification-summary.js';

/** "expected < 30s, actual 35.20s", the line a CI test tab shows for a failed check. */
export function checkFailureMessage(c: CheckResult): string {
  const actual = formatValue(c.actual, c.unit);
  return `expected ${c.target}, actual ${actual}${c.detail ? ` (${c.detail})` : ''}`;
}

function testcase(r: ResultDocument, c: CheckResult): string {
  const open = `    <testcase classname="gameday.${x(r.scenario.name)}" name="${x(`${c.id}: ${c.name}`)}" time="0"`;
  if (c.notEvaluated !== undefined) return `${open}>\n      <skipped message="${x(`not evaluated: ${c.notEvaluated}`)}"/>\n    </testcase>`;
  if (c.passed) return `${open}>\n      <system-out>${x(`${c.metric} = ${actualText(c)} (target ${c.target})`)}</system-out>\n    </testcase>`;
  const message = checkFailureMessage(c);
  return `${open}>\n      <failure message="${x(message)}" type="${x(c.metric)}">${x(message)}</failure>\n    </testcase>`;
}

/** A run that did not complete is an error of the suite, not a failed check. */
function runCase(r: ResultDocument): string[] {
  if (r.runStatus === 'completed') return [];
  const message = `the run ended ${r.runStatus} (verdict ${r.verdict})`;
  return [`    <testcase classname="gameday.${x(r.scenario.name)}" name="run" time="0">\n      <error message="${x(message)}" type="${x(r.runStatus)}">${x(message)}</error>\n    </testcase>`];
}

/** The regression gate as a second suite: one testcase per compared metric, failed when it regressed. */
function gateSuite(c: Comparison): string[] {
  const failures = c.metrics.filter((m) => m.status === 'regressed').length;
  const cases = c.metrics.map((m) => {
    const open = `    <testcase classname="gameday.regression-gate" name="${x(m.label)}" time="0">`;
    const body = m.status === 'regressed' ? `<failure message="${x(m.reason)}" type="regression">${x(m.reason)}</failure>` : m.status === 'n/a' ? '<skipped/>' : `<system-out>${x(`${m.status}: ${m.reason}`)}</system-out>`;
    return `${open}\n      ${body}\n    </testcase>`;
  });
  const skipped = c.metrics.filter((m) => m.status === 'n/a').length;
  return [`  <testsuite name="regression-gate" tests="${c.metrics.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0">`, ...cases, '  </testsuite>'];
}

/** The servers' figures over the run after warm-up, as suite properties; or why the cross-check was skipped. */
function serverProperties(r: ResultDocument): string[] {
  const b = r.server;
  if (!b) return [];
  const prop = (name: string, value: string | number): string => `      <property name="${x(name)}" value="${x(String(value))}"/>`;
  if ('skipped' in b) return [prop('server.skipped', b.skipped)];
  const run = b.phases.find((p) => p.phase === 'run');
  if (!run) return [];
  return [
    prop('server.prometheus', b.url),
    prop('server.requests', run.server.requests),
    prop('server.status5xx', run.server.status5xx),
    prop('server.p95', bucketText(run.server.p95)),
    prop('server.p99', bucketText(run.server.p99)),
  ];
}

/** JUnit XML: one testcase per check, so CI test tabs list the spec (and the regression gate, when there was a baseline). */
export function renderJunit(r: ResultDocument, comparison?: Comparison): string {
  const failures = r.checks.filter((c) => !c.passed && c.notEvaluated === undefined).length;
  const skipped = r.checks.filter((c) => c.notEvaluated !== undefined).length;
  const summary = hasVerificationSummary(r.checks) ? verificationRows(r.checks) : undefined;
  const errors = r.runStatus === 'completed' ? 0 : 1;
  const tests = r.checks.length + errors;
  const gate = comparison ? gateSuite(comparison) : [];
  const all = {
    tests: tests + (comparison?.metrics.length ?? 0) + (summary?.length ?? 0),
    failures: failures + (comparison?.metrics.filter((m) => m.status === 'regressed').length ?? 0) + (summary?.filter((s) => s.status === 'FAIL').length ?? 0),
  };
  const time = r.timeline.length;
  const timestamp = typeof r.meta['startedAt'] === 'string' ? ` timestamp="${x(r.meta['startedAt'])}"` : '';
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gameday" tests="${all.tests}" failures="${all.failures}" errors="${errors}" time="${time}">`,
    `  <testsuite name="${x(r.scenario.name)}" ${counts} skipped="${skipped}" time="${time}"${timestamp}>`,
    '    <properties>',
    `      <property name="verdict" value="${x(r.verdict)}"/>`,
    `      <property name="runStatus" value="${x(r.runStatus)}"/>`,
    ...serverProperties(r),
    '    </properties>',
    ...r.checks.map((c) => testcase(r, c)),
    ...runCase(r),
    '  </testsuite>',
    ...(summary ? verificationJunit(summary, r.scenario.name) : []),
    ...gate,
    '</testsuites>',
    '',
  ].join('\n');
}
