import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import { COMPILED } from '../core/paths.js';
import type { LoadedResult } from '../report/gate/compare-results.js';
import type { Comparison } from '../report/gate/types.js';
import { loadPlan } from '../scenario/index.js';
import type { Plan } from '../scenario/plan.js';
import type { PrometheusOverride } from '../scenario/prometheus-plan.js';
import type { KubernetesOverride } from '../kube/from-scenario.js';
import type { RunPrinter } from './printer.js';
import { loadSide } from './result-sides.js';
import type { runOnce as RunOnce } from './run-once.js';
import { abortOnSignals } from './signals.js';

export interface RunCommandOptions {
  out: string;
  argv: string[];
  /** A baseline result.json (or run directory) for the regression gate. */
  baseline?: string;
  /** Run the Game Day this many times; the gate pools the repetitions. */
  repeat?: number;
  /** $GITHUB_STEP_SUMMARY, appended to when set. */
  stepSummary?: string;
  /** --allow-host: non-loopback hosts that may receive traffic, besides spec.target.allowHosts. */
  allowHosts?: string[];
  /** --prometheus / --prometheus-token-env: an existing Prometheus for the servers' view. */
  prometheus?: PrometheusOverride;
  /** --platform, --namespace, --context, --image, --allow-namespace, --allow-production, --allow-mode-all. */
  kubernetes?: KubernetesOverride;
  /** --parallelism: k6 operator runner pods (over spec.load.parallelism). */
  parallelism?: number;
}

/** The worst of several exit codes: interrupted > harness error > spec failed / regressed > passed. */
function worst(codes: ExitCode[]): ExitCode {
  const rank: ExitCode[] = [ExitCode.Interrupted, ExitCode.HarnessError, ExitCode.InvalidInput, ExitCode.SpecFailed, ExitCode.Passed];
  return rank.find((c) => codes.includes(c)) ?? ExitCode.Passed;
}

export async function runCommand(file: string, opts: RunCommandOptions, printer: RunPrinter): Promise<ExitCode> {
  const plan = await loadPlan(file, process.env, { allowHosts: opts.allowHosts ?? [], ...(opts.prometheus ? { prometheus: opts.prometheus } : {}), ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}), ...(opts.parallelism !== undefined ? { k6Parallelism: opts.parallelism } : {}) });
  // Every input is checked before anything starts: a bad baseline is exit 2 with nothing run.
  const baseline = opts.baseline ? await loadSide(opts.baseline) : undefined;
  const repeat = opts.repeat ?? 1;
  // The input is valid. From now on a signal aborts the run (what started is torn down, then exit 130).
  const signals = abortOnSignals((sig, n) => printer.error(n === 1 ? `${sig}: stopping load, recovering faults, tearing down...` : `${sig}: still cleaning up (a third signal exits without waiting)`));
  const local = plan.platform.kind === 'local' ? plan.platform : undefined;
  const outDir = resolve(opts.out);
  let outcome: { codes: ExitCode[]; results: LoadedResult[] };
  // A local run's slowest steps (the reaper, initdb) start now, and the run's modules (~0.3 s of
  // CPU) load meanwhile, not before.
  const ahead = local ? import('../platform/local/ahead.js').then((m) => (m.startAhead(local), m)) : undefined;
  ahead?.catch(() => undefined); // the deploy starts them itself
  try {
    const running = import('./run-once.js');
    running.catch(() => undefined); // awaited below
    await mkdir(outDir, { recursive: true });
    // The modules used after the runs: the report's (ECharts alone ~0.6 s of CPU) and the gate's.
    // Compiled, they load once the load is over (run-once.ts): an import's evaluation holds the event
    // loop, and during the deploy it held up the steps that start the platform's processes (initdb
    // started ~0.5 s late). From the sources they load while the first run deploys, as at the end a
    // Ctrl-C to the terminal's process group has also stopped tsx's compiler and an edited source
    // would no longer match the run's code. Later imports hit the cache.
    if (!COMPILED) {
      const postRun = Promise.all([
        import('../report/outputs.js'),
        ...(baseline || repeat > 1 ? [import('../report/gate/compare-results.js'), import('../report/compare-markdown.js'), import('../report/repeat-summary.js')] : []),
      ]);
      postRun.catch(() => undefined); // a failure surfaces where a module is used
    }
    // An existing Prometheus that does not answer now is said at once; it is asked again after the load.
    if (plan.prometheus) {
      void import('../run/server-side.js')
        .then(({ prometheusPreflight }) => prometheusPreflight(plan))
        .then((reason) => reason && printer.info(`server-side cross-check: ${reason}; the run goes on and asks again after the load`))
        .catch(() => undefined);
    }
    outcome = await runRepetitions(plan, outDir, repeat, opts.argv, printer, signals.signal, (await running).runOnce);
  } finally {
    signals.dispose();
    // What started ahead and no deploy took (an error or a signal came first) is stopped here.
    await (await ahead?.catch(() => undefined))?.discardAhead();
  }
  const { codes, results } = outcome;
  const complete = results.length === repeat && codes.every((c) => c === ExitCode.Passed || c === ExitCode.SpecFailed);
  const comparison = baseline && complete ? (await import('../report/gate/compare-results.js')).compareResults(baseline, results) : undefined;
  if (comparison) {
    const { renderComparisonMarkdown } = await import('../report/compare-markdown.js');
    printer.comparison(comparison, renderComparisonMarkdown(comparison));
    codes.push(comparison.regressed ? ExitCode.Regressed : ExitCode.Passed);
  }
  await writeSummaries(outDir, results, comparison, opts.stepSummary);
  return worst(codes);
}

/** Runs the Game Day `repeat` times (into repeat-i/ when more than once); stops at an interrupt or a harness error. */
async function runRepetitions(plan: Plan, outDir: string, repeat: number, argv: string[], printer: RunPrinter, signal: AbortSignal, runOnce: typeof RunOnce): Promise<{ codes: ExitCode[]; results: LoadedResult[] }> {
  const codes: ExitCode[] = [];
  const results: LoadedResult[] = [];
  for (let i = 1; i <= repeat && !signal.aborted; i++) {
    const dir = repeat > 1 ? join(outDir, `repeat-${i}`) : outDir;
    const once = await runOnce(plan, { outDir: dir, signal, argv, ...(repeat > 1 ? { repeat: { index: i, of: repeat } } : {}) }, printer);
    codes.push(once.code);
    if (once.result) results.push({ file: join(dir, 'result.json'), doc: once.result });
    if (once.code === ExitCode.Interrupted || once.code === ExitCode.HarnessError) break;
  }
  // A signal before the first repetition started (or between two) still means interrupted.
  if (signal.aborted && !codes.includes(ExitCode.Interrupted)) codes.push(ExitCode.Interrupted);
  return { codes, results };
}

/** One run: its outputs again, now with the comparison. Several: a top-level summary.md over them. */
async function writeSummaries(outDir: string, results: LoadedResult[], comparison: Comparison | undefined, stepSummary?: string): Promise<void> {
  const only = results.length === 1 ? results[0] : undefined;
  if (only) {
    if (comparison || stepSummary) await (await import('../report/outputs.js')).writeOutputs(outDir, only.doc, { ...(comparison ? { comparison } : {}), ...(stepSummary ? { stepSummary } : {}) });
    return;
  }
  if (results.length === 0) return;
  const { repeatSummary } = await import('../report/repeat-summary.js');
  const markdown = repeatSummary(results, comparison);
  await writeFile(join(outDir, 'summary.md'), markdown);
  if (comparison) await writeFile(join(outDir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  if (stepSummary) await appendFile(stepSummary, `${markdown}\n`);
}
