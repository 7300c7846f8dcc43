import { writeFileSync } from 'node:fs';
import { ExitCode } from '../core/exit-codes.js';
import { formatProblem } from '../core/errors.js';
import { exportK6Script } from '../k6/export.js';
import { planFromFile } from '../scenario/index.js';
import type { Output } from './output.js';

export interface ExportOptions {
  allowHosts?: readonly string[];
  /** Write the script here; absent: to `write` (stdout). */
  outFile?: string;
  write: (text: string) => void;
}

/**
 * `gameday export k6 <scenario>`: the scenario's workload and load model as a k6 script (see
 * harness/k6/export.ts). Exit 2 with every problem when the scenario is invalid or its workload
 * uses what k6 cannot run; nothing is contacted.
 */
export async function exportCommand(format: string, file: string, opts: ExportOptions, out: Output): Promise<ExitCode> {
  if (format !== 'k6') {
    out.error(`export: expected a format: k6, found ${JSON.stringify(format)}`);
    return ExitCode.InvalidInput;
  }
  // Exporting needs no k6 binary: plan as `gameday validate` does.
  const result = await planFromFile(file, process.env, { allowHosts: opts.allowHosts ?? [], secretsRequired: false });
  if (result.problems) {
    for (const p of result.problems) out.error(formatProblem(p));
    return ExitCode.InvalidInput;
  }
  const { script, problems } = exportK6Script(result.plan);
  if (problems.length > 0) {
    for (const p of problems) out.error(formatProblem({ file, ...p }));
    return ExitCode.InvalidInput;
  }
  if (opts.outFile === undefined) opts.write(script);
  else writeFileSync(opts.outFile, script);
  return ExitCode.Passed;
}
