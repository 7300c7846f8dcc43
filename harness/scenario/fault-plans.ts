import { parseDurationMs } from '../core/duration.js';
import { isAbsolute, resolve } from 'node:path';
import { canonicalHost, isHostAllowed } from '../core/loopback.js';
import { PLATFORM_FREE_FAULT_KINDS, type ExecActionPlan, type FaultPlan, type HttpActionPlan, type SelectorMode } from './plan.js';

/** What fault planning needs to know of the platform. */
export type PlatformShape = { kind: 'external' } | { kind: 'local'; replicas: number };
import type { FaultDocument } from './schema.js';

type Report = (path: string, expected: string, found: string) => void;
const ms = (text: string): number => parseDurationMs(text) as number;

/** Where exec faults run (the scenario file's directory) and which non-loopback hosts http faults may reach. */
export interface FaultPlanContext {
  baseDir: string;
  allowHosts: readonly string[];
}

/** One fault document → its plan, reporting what does not fit the platform. */
export function faultPlan(f: FaultDocument, i: number, platform: PlatformShape, problem: Report, where: FaultPlanContext = { baseDir: process.cwd(), allowHosts: [] }): FaultPlan {
  const path = `spec.faults[${i}]`;
  const base = { name: f.name, atMs: ms(f.at), durationMs: ms(f.duration) };
  if (platform.kind === 'external' && !PLATFORM_FREE_FAULT_KINDS.includes(f.kind)) {
    problem(`${path}.kind`, `a fault that does not need a platform (${PLATFORM_FREE_FAULT_KINDS.join(', ')}): spec.target deploys nothing to act on`, `"${f.kind}"`);
  }
  switch (f.kind) {
    case 'pod-kill': {
      const value = selection(f.mode, f.value, `${path}`, platform, problem);
      return { kind: 'pod-kill', ...base, mode: f.mode, ...(value !== undefined ? { value } : {}) };
    }
    case 'network-delay': {
      const latencyMs = ms(f.delay.latency);
      const jitterMs = ms(f.delay.jitter);
      if (jitterMs > latencyMs) problem(`${path}.delay.jitter`, `at most the latency (${f.delay.latency})`, f.delay.jitter);
      return { kind: 'network-delay', ...base, selector: f.selector, direction: f.direction, delay: { latencyMs, jitterMs, correlation: Number(f.delay.correlation) } };
    }
    case 'pool-exhaustion': {
      const mode = f.replicas?.mode ?? 'one';
      if (f.replicas && f.mode !== 'leak') problem(`${path}.replicas`, 'replicas only for mode "leak"', `mode "${f.mode}"`);
      const value = selection(mode, f.replicas?.value, `${path}.replicas`, platform, problem);
      return {
        kind: 'pool-exhaustion',
        ...base,
        mode: f.mode,
        ...(f.connections !== undefined ? { connections: f.connections } : {}),
        replicas: { mode, ...(value !== undefined ? { value } : {}) },
      };
    }
    case 'exec':
      return {
        kind: 'exec',
        ...base,
        inject: execAction(f.inject, `${path}.inject`, where, problem),
        ...(f.recover ? { recover: execAction(f.recover, `${path}.recover`, where, problem) } : {}),
      };
    case 'http':
      return {
        kind: 'http',
        ...base,
        inject: httpAction(f.inject, `${path}.inject`, where, problem),
        ...(f.recover ? { recover: httpAction(f.recover, `${path}.recover`, where, problem) } : {}),
      };
  }
}

type ExecDocument = Extract<FaultDocument, { kind: 'exec' }>['inject'];
type HttpDocument = Extract<FaultDocument, { kind: 'http' }>['inject'];

/** argv without a shell, one string with `shell: true`; cwd resolved against the scenario's directory. */
function execAction(a: ExecDocument, path: string, where: FaultPlanContext, problem: Report): ExecActionPlan {
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
function httpAction(a: HttpDocument, path: string, where: FaultPlanContext, problem: Report): HttpActionPlan {
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

/** Chaos Mesh selector rules: `value` for fixed / fixed-percent only, within range. */
function selection(mode: SelectorMode, raw: string | number | undefined, path: string, platform: PlatformShape, problem: Report): number | undefined {
  const value = raw === undefined ? undefined : Number(raw);
  if ((mode === 'fixed' || mode === 'fixed-percent') && value === undefined) problem(`${path}.value`, `a value for mode "${mode}"`, 'nothing');
  if ((mode === 'one' || mode === 'all') && value !== undefined) problem(`${path}.value`, `no value for mode "${mode}"`, String(raw));
  if (mode === 'fixed' && value !== undefined && platform.kind === 'local' && (value < 1 || value > platform.replicas)) {
    problem(`${path}.value`, `a count between 1 and the ${platform.replicas} replicas`, String(raw));
  }
  if (mode === 'fixed-percent' && value !== undefined && (value < 1 || value > 100)) problem(`${path}.value`, 'a percentage between 1 and 100', String(raw));
  return value;
}

/** What the platform must provide for these faults: Task API fault endpoints, a database proxy. */
export function platformNeeds(faults: readonly FaultPlan[]): { faultInjection: string[]; databaseProxy: boolean } {
  return {
    faultInjection: faults.some((f) => f.kind === 'pool-exhaustion' && f.mode === 'leak') ? ['leak'] : [],
    databaseProxy: faults.some((f) => f.kind === 'network-delay'),
  };
}
