import { resolve } from 'node:path';
import Table from 'cli-table3';
import { ExitCode } from '../core/exit-codes.js';
import { formatProblem, InputError, type Problem } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';
import { CONFORMANCE_CHECKS, defaultConformancePlan, type ConformancePlan, type Finding } from '../conformance/types.js';
import type { Output } from './output.js';

export interface VerifyOptions {
  live?: boolean;
  namespace?: string;
  context?: string;
  opencost?: string;
  opencostWindow?: string;
  deployment?: string;
  schedule?: string;
  allowNamespace?: string[];
  allowProduction?: boolean;
  allowModeAll?: boolean;
  env?: NodeJS.ProcessEnv;
}

type Status = 'PASS' | 'FAIL' | 'NOT EVALUATED' | 'NOT READ';
const statusOf = (f: Finding): Status => (f.environment ? 'NOT READ' : f.notEvaluated !== undefined ? 'NOT EVALUATED' : f.actual === 0 ? 'PASS' : 'FAIL');

/** The flags as a conformance plan, or every problem with them (exit 2, nothing read). */
export function verifyPlan(paths: readonly string[], o: VerifyOptions): { plan: ConformancePlan } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const bad = (path: string, expected: string, found: string): void => void problems.push({ path, expected, found });
  if (paths.length === 0 && !o.live) bad('gameday verify', 'manifest files or directories (static), or --live (the cluster)', 'neither');
  if (paths.length > 0 && o.live) bad('gameday verify', 'manifest paths or --live, not both', `${paths.length} path(s) and --live`);
  if (!o.live && (o.context !== undefined)) bad('--context', '--context only with --live', o.context);
  let opencost: ConformancePlan['opencost'];
  if (o.opencost !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(o.opencost);
    } catch {
      bad('--opencost', 'an http:// URL of OpenCost (a port-forward, such as http://127.0.0.1:9003)', JSON.stringify(o.opencost));
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') bad('--opencost', 'an http:// or https:// URL', url.protocol);
    else if (url && !isLoopbackHost(url.hostname)) bad('--opencost', 'a loopback host (kubectl port-forward -n <ns> svc/opencost 9003)', url.hostname);
    else if (url) opencost = { url: o.opencost.replace(/\/+$/, ''), window: o.opencostWindow ?? '1d' };
  }
  if (o.opencostWindow !== undefined && !/^\d+[mhd]$/.test(o.opencostWindow)) bad('--opencost-window', 'an OpenCost window such as "1d", "24h" or "30m"', JSON.stringify(o.opencostWindow));
  if (o.schedule !== undefined && !/^\S+(\s+\S+){4}$/.test(o.schedule.trim())) bad('--schedule', 'a cron expression of five fields, such as "0 2 * * *"', JSON.stringify(o.schedule));
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (o.namespace !== undefined && !dns.test(o.namespace)) bad('--namespace', 'a DNS-1123 label (lowercase letters, digits, -)', JSON.stringify(o.namespace));
  if (o.deployment !== undefined && !dns.test(o.deployment)) bad('--deployment', 'a DNS-1123 label (lowercase letters, digits, -)', JSON.stringify(o.deployment));
  if (problems.length > 0) return { problems };
  const defaults = defaultConformancePlan();
  return {
    plan: defaultConformancePlan({
      mode: o.live ? 'live' : 'static',
      manifests: paths.map((p) => resolve(p)),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.context ? { context: o.context } : {}),
      ...(o.deployment ? { deployment: o.deployment } : {}),
      ...(opencost ? { opencost } : {}),
      backup: { ...defaults.backup, ...(o.schedule ? { schedule: o.schedule.trim().replace(/\s+/g, ' ') } : {}) },
      guard: { allowNamespaces: [...defaults.guard.allowNamespaces, ...(o.allowNamespace ?? [])], allowProduction: !!o.allowProduction, allowModeAll: !!o.allowModeAll },
    }),
  };
}

/**
 * `gameday verify`: the conformance checks (SC-001..SC-006, the chaos safety review) on manifest
 * files or on the cluster. Exit 0 when none failed, 1 when one did, 2 on bad input (flags, missing
 * or malformed manifests), 3 when the cluster or OpenCost could not be read.
 */
export async function verifyCommand(paths: readonly string[], o: VerifyOptions, out: Output): Promise<ExitCode> {
  const planned = verifyPlan(paths, o);
  if ('problems' in planned) {
    for (const p of planned.problems) out.error(formatProblem(p));
    return ExitCode.InvalidInput;
  }
  const { evaluateConformance } = await import('../conformance/index.js');
  let outcome: Awaited<ReturnType<typeof evaluateConformance>>;
  try {
    outcome = await evaluateConformance(planned.plan, { ...(o.env ? { env: o.env } : {}) });
  } catch (err) {
    if (err instanceof InputError) {
      for (const p of err.problems) out.error(formatProblem(p));
      return ExitCode.InvalidInput;
    }
    const code = (err as { exitCode?: number }).exitCode;
    out.error(`gameday verify: ${(err as Error).message}`);
    return code === ExitCode.InvalidInput ? ExitCode.InvalidInput : ExitCode.HarnessError;
  }
  out.info(`verify: ${planned.plan.mode} (${outcome.source}), namespace ${outcome.namespace}`);
  const table = new Table({ head: ['Check', 'Target', 'Actual', 'Status'], style: { head: [], border: [] } });
  const notes: string[] = [];
  const tally: Record<Status, number> = { PASS: 0, FAIL: 0, 'NOT EVALUATED': 0, 'NOT READ': 0 };
  let environment = false;
  for (const c of CONFORMANCE_CHECKS) {
    const f = outcome.findings.get(c.metric) as Finding;
    const status = statusOf(f);
    tally[status]++;
    if (f.environment) environment = true;
    table.push([`${c.id}: ${c.name}`, f.expected ?? '', f.shown, status]);
    notes.push(`${c.id} ${status === 'NOT EVALUATED' ? `not evaluated: ${f.notEvaluated}; ${f.detail}` : f.detail}`);
  }
  out.info(table.toString());
  for (const n of notes) out.info(`  ${n}`);
  const verdict = environment ? 'NOT READ' : tally.FAIL > 0 ? 'FAILED' : 'PASSED';
  out.info(`verify: ${verdict} — ${tally.PASS} passed, ${tally.FAIL} failed, ${tally['NOT EVALUATED']} not evaluated${tally['NOT READ'] ? `, ${tally['NOT READ']} not read` : ''}`);
  if (environment) {
    for (const c of CONFORMANCE_CHECKS) {
      const f = outcome.findings.get(c.metric);
      if (f?.environment) out.error(`${c.id}: ${f.detail}`);
    }
    return ExitCode.HarnessError;
  }
  return tally.FAIL > 0 ? ExitCode.SpecFailed : ExitCode.Passed;
}
