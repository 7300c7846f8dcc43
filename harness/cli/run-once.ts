import { ExitCode } from '../core/exit-codes.js';
import { buildResult, type ResultDocument } from '../report/result.js';
import { runGameDay, type ProgressTick } from '../run/gameday.js';
import { HostLoadMeter } from '../run/host-load.js';
import { runMeta } from '../run/meta.js';
import type { Plan } from '../scenario/plan.js';
import type { JournalEvent } from '../core/journal.js';
import type { RunPrinter } from './printer.js';

export interface OnceOptions {
  outDir: string;
  signal: AbortSignal;
  argv: string[];
  repeat?: { index: number; of: number };
}

export interface OnceOutcome {
  code: ExitCode;
  result?: ResultDocument;
}

/** One Game Day, its outputs written into `outDir` as soon as it ends (partial results included). */
export async function runOnce(plan: Plan, opts: OnceOptions, printer: RunPrinter): Promise<OnceOutcome> {
  const startedAt = new Date();
  printer.start({ scenario: plan.name, platform: plan.platform.kind, durationMs: plan.durationMs, outDir: opts.outDir, ...(opts.repeat ? { repeat: opts.repeat } : {}) });
  const hostLoad = new HostLoadMeter();
  const onTick = (t: ProgressTick): void => {
    hostLoad.sample(t.elapsedMs);
    printer.tick(t);
  };
  // Where a cluster run acts, said before anything is applied there.
  const onEvent = (e: JournalEvent): void => {
    // The load is over and judged: the report's modules load now, beside the teardown (see runCommand).
    if (e.type === 'run.finished') import('../report/outputs.js').catch(() => undefined);
    if (e.type === 'kube.context') printer.info(`kubernetes: context ${e.detail?.['context']}, namespace ${e.detail?.['namespace']} (${e.detail?.['server']}), run ${e.detail?.['run']}`);
    // A TestRun's stages come before the zero and may take a while on a cluster (pulling k6's image).
    if (e.type === 'k6.stage') printer.info(`k6 operator: ${e.target} ${e.detail?.['stage']}`);
    if (e.type === 'k6.deleted' && e.detail?.['leftovers']) printer.error(`gameday: left in the cluster: ${e.detail['leftovers']}`);
    if (e.type === 'kube.left-behind') printer.error(`gameday: left in the cluster: ${e.detail?.['objects']} (remove with: ${e.detail?.['cleanup']})`);
  };
  const outcome = await runGameDay(plan, { outDir: opts.outDir, signal: opts.signal, onTick, onEvent });
  let result: ResultDocument | undefined;
  if (outcome.analysis) {
    const host = hostLoad.result();
    const meta = { ...(await runMeta(plan, startedAt, opts.argv)), ...(host ? { hostLoad: host } : {}) };
    result = buildResult(plan, outcome.analysis, outcome.status, meta, outcome.load);
    // Loaded while the platform deployed (from the sources) or tore down (compiled; see runCommand).
    const { writeOutputs } = await import('../report/outputs.js');
    printer.result(result, await writeOutputs(opts.outDir, result));
  }
  // An error may say the scenario was at fault (exit 2: a cluster refused an object it described).
  const errorCode = (outcome.error as { exitCode?: number } | undefined)?.exitCode === ExitCode.InvalidInput ? ExitCode.InvalidInput : ExitCode.HarnessError;
  const code = outcome.status === 'interrupted' ? ExitCode.Interrupted : outcome.status === 'error' ? errorCode : outcome.analysis?.verdict.passed ? ExitCode.Passed : ExitCode.SpecFailed;
  if (outcome.status === 'error') printer.error(`gameday: the run failed: ${outcome.error?.message ?? 'unknown error'}`);
  return { code, ...(result ? { result } : {}) };
}
