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

/** Peeks at a file: is it a capacity.json (so report/compare hand it to the capacity modules)? */
export async function isCapacityPath(path: string): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const { isCapacityDocument } = await import('../capacity/document.js');
  try {
    const file = await capacityFile(path);
    if (file !== path && (await stat(join(path, 'result.json')).then(() => true, () => false))) return false;
    return isCapacityDocument(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return false;
  }
}

/** gameday report on a capacity.json: capacity.md and capacity.html again, from it alone. */
export async function capacityReportCommand(file: string, outDir: string | undefined, out: Output): Promise<ExitCode> {
  const { dirname } = await import('node:path');
  const doc = await readCapacity(await capacityFile(file));
  const { writeCapacityOutputs } = await import('../capacity/outputs.js');
  const written = await writeCapacityOutputs(resolve(outDir ?? dirname(await capacityFile(file))), doc);
  out.info(`gameday report: capacity ${doc.scenario.name} (${doc.status}) → ${written.join(', ')}`);
  return ExitCode.Passed;
}

/** gameday compare on two capacity.json files (or their directories): exit 1 when a knee regressed. */
export async function capacityCompareCommand(baselinePath: string, currentPath: string, json: boolean, out: Output): Promise<ExitCode> {
  const [baselineFile, currentFile] = await Promise.all([capacityFile(baselinePath), capacityFile(currentPath)]);
  const [baseline, current] = await Promise.all([readCapacity(baselineFile), readCapacity(currentFile)]);
  const { compareCapacity, capacityComparisonMarkdown } = await import('../report/gate/capacity.js');
  const comparison = compareCapacity(baseline, current, { baseline: baselineFile, current: currentFile });
  out.info(json ? JSON.stringify(comparison) : capacityComparisonMarkdown(comparison));
  return comparison.regressed ? ExitCode.Regressed : ExitCode.Passed;
}
