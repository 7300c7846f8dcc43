import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { FaultAct } from '../../core/journal.js';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import type { ExecActionPlan } from '../../scenario/plan.js';
import { ExecFault } from '../exec.js';
import { ms, namedRecord } from './planning.js';
import { defineFaultKind, type DocumentOf, type FaultPlanContext, type FaultSchemaParts, type Report } from './types.js';

/** Runs `inject` at the fault's start and `recover` at its end; needs no platform. */
export interface ExecFaultPlan {
  kind: 'exec';
  name: string;
  atMs: number;
  durationMs: number;
  inject: ExecActionPlan;
  recover?: ExecActionPlan;
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    exec: ExecFaultPlan;
  }
}

declare module '../../core/journal.js' {
  interface JournalEventTypes {
    'exec.injected': FaultAct;
    'exec.inject-skipped': FaultAct;
    'exec.inject-interrupted': FaultAct;
    'exec.inject-failed': FaultAct;
    'exec.recovered': FaultAct;
    'exec.recover-failed': FaultAct;
  }
}

/** exec: a command run without a shell (argv) unless `shell: true` (then one string). */
const action = (p: FaultSchemaParts) =>
  p.obj({
    command: z.union([z.array(z.string().min(1).max(4096)).min(1).max(256), z.string().min(1).max(16_384)]),
    shell: z.boolean().default(false),
    timeout: p.duration(B.faultActionTimeout).default('30s'),
    /** Added to the harness's environment; values never reach the journal. */
    env: namedRecord(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, _; not starting with a digit)', 16_384).optional(),
    /** Relative to the scenario file's directory (default: that directory). */
    cwd: z.string().min(1).max(4096).optional(),
  });

const document = (p: FaultSchemaParts) =>
  p.obj({
    name: p.dnsLabel,
    kind: z.literal('exec'),
    at: p.duration(B.faultAt),
    duration: p.duration(B.faultDuration),
    inject: action(p),
    recover: action(p).optional(),
  });

/** A user's inject/recover commands; needs no platform. */
export const exec = defineFaultKind({
  kind: 'exec',
  document,
  needsPlatform: false,
  plan: (f, base, path, _platform, problem, where) => ({
    kind: 'exec',
    ...base,
    inject: execAction(f.inject, `${path}.inject`, where, problem),
    ...(f.recover ? { recover: execAction(f.recover, `${path}.recover`, where, problem) } : {}),
  }),
  injector: (plan) => new ExecFault(plan),
  effectEvents: ['exec.injected'],
  spanInject: true,
});

/** argv without a shell, one string with `shell: true`; cwd resolved against the scenario's directory. */
function execAction(a: DocumentOf<typeof document>['inject'], path: string, where: FaultPlanContext, problem: Report): ExecActionPlan {
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
