import type { CheckResult } from '../verdict/index.js';
import { formatValue } from './format.js';
import type { ResultDocument } from './result.js';
import { xmlEscape as x } from './text-formats.js';

/** "expected < 30s, actual 35.20s", the line a CI test tab shows for a failed check. */
export function checkFailureMessage(c: CheckResult): string {
  const actual = formatValue(c.actual, c.unit);
  return `expected ${c.target}, actual ${actual}${c.detail ? ` (${c.detail})` : ''}`;
}

function testcase(r: ResultDocument, c: CheckResult): string {
  const open = `    <testcase classname="gameday.${x(r.scenario.name)}" name="${x(`${c.id}: ${c.name}`)}" time="0"`;
  if (c.passed) return `${open}>\n      <system-out>${x(`${c.metric} = ${formatValue(c.actual, c.unit)} (target ${c.target})`)}</system-out>\n    </testcase>`;
  const message = checkFailureMessage(c);
  return `${open}>\n      <failure message="${x(message)}" type="${x(c.metric)}">${x(message)}</failure>\n    </testcase>`;
}

/** A run that did not complete is an error of the suite, not a failed check. */
function runCase(r: ResultDocument): string[] {
  if (r.runStatus === 'completed') return [];
  const message = `the run ended ${r.runStatus} (verdict ${r.verdict})`;
  return [`    <testcase classname="gameday.${x(r.scenario.name)}" name="run" time="0">\n      <error message="${x(message)}" type="${x(r.runStatus)}">${x(message)}</error>\n    </testcase>`];
}

/** JUnit XML: one testcase per check, so CI test tabs list the spec. */
export function renderJunit(r: ResultDocument): string {
  const failures = r.checks.filter((c) => !c.passed).length;
  const errors = r.runStatus === 'completed' ? 0 : 1;
  const tests = r.checks.length + errors;
  const time = r.timeline.length;
  const timestamp = typeof r.meta['startedAt'] === 'string' ? ` timestamp="${x(r.meta['startedAt'])}"` : '';
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gameday" ${counts} time="${time}">`,
    `  <testsuite name="${x(r.scenario.name)}" ${counts} skipped="0" time="${time}"${timestamp}>`,
    '    <properties>',
    `      <property name="verdict" value="${x(r.verdict)}"/>`,
    `      <property name="runStatus" value="${x(r.runStatus)}"/>`,
    '    </properties>',
    ...r.checks.map((c) => testcase(r, c)),
    ...runCase(r),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
