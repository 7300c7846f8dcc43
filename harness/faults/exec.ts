import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../core/errors.js';
import type { ExecActionPlan, ExecFaultPlan } from '../scenario/plan.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

export interface CommandResult {
  /** The exit code, or null when the process was killed or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Killed (its whole process group) because it outlived its timeout. */
  timedOut: boolean;
  /** Killed (its whole process group) because `signal` aborted. */
  interrupted: boolean;
  durationMs: number;
  /** Why it could not start (spawn error: no such program, no such cwd…). */
  error?: string;
}

/** What the journal may say about a command: the program, never its arguments or environment values. */
export function programOf(action: ExecActionPlan): string {
  return action.command.shell ? 'sh -c' : (action.command.argv[0] as string);
}

/**
 * Runs one command without a shell (argv) or with /bin/sh -c (`shell: true`), in its own process
 * group, stdout and stderr appended to `logFile`. The whole group is SIGKILLed when the timeout
 * expires or `signal` aborts, so nothing it started lingers. Never rejects.
 */
export function runCommand(action: ExecActionPlan, opts: { logFile?: string; label: string; signal?: AbortSignal }): Promise<CommandResult> {
  const started = performance.now();
  const [file, args] = action.command.shell ? ['/bin/sh', ['-c', action.command.script]] : [action.command.argv[0] as string, action.command.argv.slice(1)];
  // The child writes straight into the file: no pipe of ours that a lingering grandchild could hold open.
  const fd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a', 0o600);
  const note = (text: string): void => {
    if (fd !== undefined) writeSync(fd, `--- ${new Date().toISOString()} ${opts.label} (${programOf(action)}): ${text} ---\n`);
  };
  note('started');
  return new Promise<CommandResult>((resolve) => {
    let timedOut = false;
    let interrupted = false;
    let pid: number | undefined;
    const killGroup = (): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, action.timeoutMs);
    const onAbort = (): void => {
      interrupted = true;
      killGroup();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const durationMs = Math.round(performance.now() - started);
      const how = error ? `could not start: ${error}` : timedOut ? `timed out after ${action.timeoutMs}ms` : interrupted ? 'interrupted' : signal ? `killed by ${signal}` : `exit code ${exitCode}`;
      note(`${how} after ${durationMs}ms`);
      if (fd !== undefined) closeSync(fd);
      resolve({ exitCode, signal, timedOut, interrupted, durationMs, ...(error ? { error } : {}) });
    };
    try {
      const child = spawn(file, args, {
        cwd: action.cwd,
        env: { ...process.env, ...action.env },
        stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
        // Its own process group: killed as a whole, and a terminal's Ctrl-C reaches only the harness.
        detached: true,
      });
      pid = child.pid;
      child.once('error', (err) => finish(null, null, err.message));
      child.once('exit', (code, signal) => finish(code, signal));
    } catch (err) {
      // Arguments spawn refuses outright (a NUL byte…); its message would quote them, so only the code.
      return finish(null, null, (err as NodeJS.ErrnoException).code ?? 'invalid command');
    }
    if (opts.signal?.aborted) onAbort();
  });
}

function failed(r: CommandResult): boolean {
  return r.exitCode !== 0 || r.timedOut || r.error !== undefined;
}

function describe(r: CommandResult, action: ExecActionPlan): string {
  if (r.error) return `could not start (${r.error})`;
  if (r.timedOut) return `timed out after ${action.timeoutMs}ms (process group killed)`;
  if (r.signal) return `was killed by ${r.signal}`;
  return `exited with code ${r.exitCode}`;
}

/**
 * A fault made of two commands: `inject` at the fault's start, `recover` at its end (and on every
 * exit path, whenever inject was started, even if it failed or was cut short). A non-zero exit
 * or a timeout fails the fault. The journal records program, exit code, signal, duration and log
 * file; never arguments or environment values (they may hold secrets).
 */
export class ExecFault implements FaultInjector<ExecFaultPlan> {
  private injectStarted = false;
  private recovery?: Promise<void>;

  constructor(readonly plan: ExecFaultPlan) {}

  async apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const { inject } = this.plan;
    const target = programOf(inject);
    if (signal?.aborted) {
      ctx.journal.record({ source: 'fault', type: 'exec.inject-skipped', target, fault: this.plan.name, detail: { reason: 'recovery started before the command ran' } });
      return [];
    }
    this.injectStarted = true;
    const result = await runCommand(inject, { ...this.logFile(ctx), label: 'inject', signal });
    const detail = this.detail(ctx, result);
    if (result.interrupted) {
      const e = ctx.journal.record({ source: 'fault', type: 'exec.inject-interrupted', target, fault: this.plan.name, detail });
      return [{ target, appliedAtMs: e.atMs, detail: { interrupted: true } }];
    }
    if (failed(result)) {
      ctx.journal.record({ source: 'fault', type: 'exec.inject-failed', target, fault: this.plan.name, detail });
      throw new HarnessError(`fault ${this.plan.name}: inject command ${target} ${describe(result, inject)}${this.seeLog(ctx)}`);
    }
    const e = ctx.journal.record({ source: 'fault', type: 'exec.injected', target, fault: this.plan.name, detail });
    return [{ target, appliedAtMs: e.atMs, detail: { exitCode: 0 } }];
  }

  /** Runs `recover` once inject has started (never before), however often it is called; a failure is journalled and rejects every call. */
  recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    if (this.injectStarted) this.recovery ??= this.runRecover(ctx);
    return (this.recovery ?? Promise.resolve()).finally(() => {
      for (const r of records) r.recoveredAtMs ??= ctx.clock.now();
    });
  }

  private async runRecover(ctx: FaultContext): Promise<void> {
    const action = this.plan.recover;
    if (!action) return;
    const target = programOf(action);
    const result = await runCommand(action, { ...this.logFile(ctx), label: 'recover' });
    const detail = this.detail(ctx, result);
    if (failed(result)) {
      ctx.journal.record({ source: 'fault', type: 'exec.recover-failed', target, fault: this.plan.name, detail });
      throw new HarnessError(`fault ${this.plan.name}: recover command ${target} ${describe(result, action)}${this.seeLog(ctx)}`);
    }
    ctx.journal.record({ source: 'fault', type: 'exec.recovered', target, fault: this.plan.name, detail });
  }

  private logFile(ctx: FaultContext): { logFile?: string } {
    return ctx.logDir ? { logFile: join(ctx.logDir, `fault-${this.plan.name}.log`) } : {};
  }

  private seeLog(ctx: FaultContext): string {
    return ctx.logDir ? ` (output in logs/fault-${this.plan.name}.log)` : '';
  }

  private detail(ctx: FaultContext, r: CommandResult): Record<string, string | number | boolean | null> {
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      ...(r.error ? { error: r.error } : {}),
      ...(ctx.logDir ? { log: `logs/fault-${this.plan.name}.log` } : {}),
    };
  }
}
