import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import { loadPlan } from '../scenario/index.js';
import { buildResult } from '../report/result.js';
import { runGameDay } from '../run/gameday.js';
import { runMeta } from '../run/meta.js';
import type { Output } from './output.js';
import { abortOnSignals } from './signals.js';
import { renderSummary } from '../report/console.js';

export interface RunCommandOptions {
  out: string;
  quiet?: boolean;
  argv: string[];
}

export async function runCommand(file: string, opts: RunCommandOptions, out: Output): Promise<ExitCode> {
  const plan = await loadPlan(file, process.env);
  const outDir = resolve(opts.out);
  await mkdir(outDir, { recursive: true });
  const signals = abortOnSignals((sig, n) => out.error(n === 1 ? `${sig}: stopping load, recovering faults, tearing down...` : `${sig}: still cleaning up (a third signal exits without waiting)`));
  const startedAt = new Date();
  try {
    out.info(`gameday: ${plan.name} on the ${plan.platform.kind} platform, ${plan.durationMs / 1000}s, writing ${outDir}`);
    const outcome = await runGameDay(plan, {
      outDir,
      signal: signals.signal,
      onTick: (t) => {
        const s = Math.floor(t.elapsedMs / 1000);
        if (s % 5 === 0) out.info(`  ${s}s/${t.totalMs / 1000}s  ${t.phase}${t.fault ? ` (${t.fault})` : ''}`);
      },
    });
    const meta = await runMeta(plan, startedAt, opts.argv);
    if (outcome.analysis) {
      const result = buildResult(plan, outcome.analysis, outcome.status, meta, outcome.load);
      await writeFile(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
      out.info(renderSummary(result));
    }
    if (outcome.status === 'interrupted') return ExitCode.Interrupted;
    if (outcome.status === 'error') {
      out.error(`gameday: the run failed: ${outcome.error?.message ?? 'unknown error'}`);
      return ExitCode.HarnessError;
    }
    return outcome.analysis?.verdict.passed ? ExitCode.Passed : ExitCode.SpecFailed;
  } finally {
    signals.dispose();
  }
}
