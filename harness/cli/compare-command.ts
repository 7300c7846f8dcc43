import { ExitCode } from '../core/exit-codes.js';
import { renderComparisonMarkdown } from '../report/compare-markdown.js';
import { compareResults } from '../report/gate/compare-results.js';
import { appendFile } from 'node:fs/promises';
import type { Output } from './output.js';
import { loadSide } from './result-sides.js';

export interface CompareOptions {
  json?: boolean;
  /** $GITHUB_STEP_SUMMARY, appended to when set. */
  stepSummary?: string;
}

/** The regression gate on two results already on disk: exit 1 on a regression, 0 otherwise. */
export async function compareCommand(baselinePath: string, currentPath: string, opts: CompareOptions, out: Output): Promise<ExitCode> {
  // Two capacity.json files (gameday capacity): their knees are compared instead.
  const capacity = await import('./capacity-command.js');
  if ((await capacity.isCapacityPath(baselinePath)) || (await capacity.isCapacityPath(currentPath))) return capacity.capacityCompareCommand(baselinePath, currentPath, opts.json ?? false, out);
  const [baseline, current] = await Promise.all([loadSide(baselinePath), loadSide(currentPath)]);
  const comparison = compareResults(baseline, current);
  const markdown = renderComparisonMarkdown(comparison);
  out.info(opts.json ? JSON.stringify(comparison) : markdown);
  if (opts.stepSummary) await appendFile(opts.stepSummary, `${markdown}\n`);
  return comparison.regressed ? ExitCode.Regressed : ExitCode.Passed;
}
