import { isAbsolute, resolve } from 'node:path';
import { parseDurationMs } from '../../core/duration.js';
import { canonicalHost, isHostAllowed } from '../../core/loopback.js';
import type { ExecActionPlan, HttpActionPlan, SelectorMode } from '../../scenario/plan.js';
import type { FaultDocument } from '../../scenario/schema.js';
import type { FaultPlanContext, PlatformShape, Report } from './types.js';

/** Planning helpers the fault kinds share. */

export const ms = (text: string): number => parseDurationMs(text) as number;

/** Chaos Mesh selector rules: `value` for fixed / fixed-percent only, within range. */
export function selection(mode: SelectorMode, raw: string | number | undefined, path: string, platform: PlatformShape, problem: Report): number | undefined {
  const value = raw === undefined ? undefined : Number(raw);
  if ((mode === 'fixed' || mode === 'fixed-percent') && value === undefined) problem(`${path}.value`, `a value for mode "${mode}"`, 'nothing');
  if ((mode === 'one' || mode === 'all') && value !== undefined) problem(`${path}.value`, `no value for mode "${mode}"`, String(raw));
  if (mode === 'fixed' && value !== undefined && platform.kind === 'local' && (value < 1 || value > platform.replicas)) {
    problem(`${path}.value`, `a count between 1 and the ${platform.replicas} replicas`, String(raw));
  }
  if (mode === 'fixed-percent' && value !== undefined && (value < 1 || value > 100)) problem(`${path}.value`, 'a percentage between 1 and 100', String(raw));
  return value;
}

type ExecDocument = Extract<FaultDocument, { kind: 'exec' }>['inject'];
type HttpDocument = Extract<FaultDocument, { kind: 'http' }>['inject'];

/** argv without a shell, one string with `shell: true`; cwd resolved against the scenario's directory. */
export function execAction(a: ExecDocument, path: string, where: FaultPlanContext, problem: Report): ExecActionPlan {
  if (a.shell && typeof a.command !== 'string') problem(`${path}.command`, 'one string for shell: true (run by /bin/sh -c)', 'a list');
  if (!a.shell && typeof a.command === 'string') problem(`${path}.command`, 'a list of arguments such as [systemctl, start, orders] (a string only with shell: true)', 'a string');
  const command = typeof a.command === 'string' ? a.command : a.command.join(' ');
  return {
    command: a.shell ? { shell: true, script: command } : { shell: false, argv: Array.isArray(a.command) ? a.command : [a.command] },
    timeoutMs: ms(a.timeout),
    env: a.env ?? {},
    cwd: a.cwd === undefined ? where.baseDir : isAbsolute(a.cwd) ? a.cwd : resolve(where.baseDir, a.cwd),
  };
}

/** http(s) to loopback, or to a host allowed by spec.target.allowHosts or --allow-host (canonical, from toPlan). */
export function httpAction(a: HttpDocument, path: string, where: FaultPlanContext, problem: Report): HttpActionPlan {
  const url = new URL(a.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problem(`${path}.url`, 'an http:// or https:// URL', url.protocol);
  const allowed = where.allowHosts.map(canonicalHost).filter((h): h is string => h !== undefined);
  if (!isHostAllowed(url.hostname, allowed)) {
    problem(`${path}.url`, 'a loopback host (127.0.0.0/8, [::1], localhost) or a host listed in spec.target.allowHosts / --allow-host', url.hostname);
  }
  if (url.username || url.password) problem(`${path}.url`, 'no credentials in the URL (use headers: they are never journalled)', 'user info');
  return {
    method: a.method,
    url: a.url,
    headers: a.headers ?? {},
    ...(a.body !== undefined ? { body: a.body } : {}),
    ...(a.expect ? { expectStatus: a.expect.status } : {}),
    timeoutMs: ms(a.timeout),
    ...(allowed.length > 0 ? { allowHosts: allowed } : {}),
  };
}
