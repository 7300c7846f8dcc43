import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import { capacityPlanFromFile } from '../capacity/plan.js';
import { readCapacity, type CapacityDocument } from '../capacity/document.js';
import { fmt, pct } from '../capacity/judge.js';
import { loadPlan } from '../scenario/index.js';
import type { Output } from './output.js';
import { abortOnSignals } from './signals.js';

export interface CapacityCommandOptions {
  out: string;
  /** A baseline capacity.json (or the directory holding one): exit 1 when a knee regressed. */
  baseline?: string;
  allowHosts?: string[];
}

/** A capacity.json itself, or the out directory holding one. */
export async function capacityFile(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? join(path, 'capacity.json') : path;
  } catch {
    return path;
  }
}

/**
 * gameday capacity: the knee (N, N-1, under faults), mass termination and the forecast. Exit 0 when
 * the searches completed and the knee with every replica is at least the stated peak, 1 when it is
 * below the peak or a knee regressed against the baseline, 2 on bad input, 3 when the harness
 * failed, 130 when interrupted (after cleanup, with the partial figures written).
 */
export async function capacityCommand(file: string, opts: CapacityCommandOptions, out: Output): Promise<ExitCode> {
  const plan = await loadPlan(file, process.env, { allowHosts: opts.allowHosts ?? [] });
  const cap = await capacityPlanFromFile(file, plan);
  const baselineFile = opts.baseline ? await capacityFile(opts.baseline) : undefined;
  const baseline = baselineFile ? await readCapacity(baselineFile) : undefined;
  const outDir = resolve(opts.out);
  const [{ runCapacity }, { writeCapacityOutputs }, { compareCapacity, capacityComparisonMarkdown }] = await Promise.all([import('../capacity/run.js'), import('../capacity/outputs.js'), import('../report/gate/capacity.js')]);
  const signals = abortOnSignals((sig, n) => out.error(n === 1 ? `${sig}: stopping load, recovering faults, tearing down...` : `${sig}: still cleaning up (a third signal exits without waiting)`));
  let doc: CapacityDocument;
  try {
    out.info(`gameday capacity: ${plan.name} (up to ${fmt(cap.maxDurationMs / 1000)} s) → ${outDir}`);
    doc = await runCapacity(plan, cap, {
      outDir,
      signal: signals.signal,
      file,
      onPhase: (text) => out.info(`— ${text}`),
      onStep: (search, s) => out.info(`  ${search.padEnd(6)} ${fmt(s.rate).padStart(7)}/s → achieved ${fmt(s.achievedRate)}/s, p95 ${s.p95Ms === null ? '—' : `${fmt(s.p95Ms)} ms`}, failures ${pct(s.failureRatio)}: ${s.verdict}${s.reasons.length ? ` (${[...s.reasons, ...s.generatorLimits].join('; ')})` : ''}`),
    });
  } finally {
    signals.dispose();
  }
  const comparison = baseline && baselineFile && doc.status === 'completed' ? compareCapacity(baseline, doc, { baseline: baselineFile, current: join(outDir, 'capacity.json') }) : undefined;
  const written = await writeCapacityOutputs(outDir, doc, comparison);
  const { capacityMarkdown } = await import('../capacity/summary.js');
  out.info(capacityMarkdown(doc));
  if (comparison) out.info(capacityComparisonMarkdown(comparison));
  out.info(`written: ${written.join(', ')}`);
  if (doc.status === 'interrupted') return ExitCode.Interrupted;
  if (doc.status === 'error') {
    out.error(`gameday capacity: ${doc.error ?? 'failed'}`);
    return ExitCode.HarnessError;
  }
  const n = doc.searches.find((s) => s.name === 'N');
  const short = doc.peak !== undefined && n !== undefined && (n.knee.rate ?? 0) < doc.peak && n.knee.status !== 'generator-limited';
  if (short) out.error(`the knee with every replica (${n?.knee.text}) is below the peak ${doc.peak}/s`);
  return short || comparison?.regressed ? ExitCode.SpecFailed : ExitCode.Passed;
}
