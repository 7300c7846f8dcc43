import { ExitCode } from '../core/exit-codes.js';
import { formatProblem } from '../core/errors.js';
import { planFromFile } from '../scenario/index.js';
import type { Output } from './output.js';

/** Validates every file, reporting every problem of every file; starts nothing. */
export async function validateCommand(files: string[], out: Output): Promise<ExitCode> {
  let bad = 0;
  for (const file of files) {
    const result = await planFromFile(file, process.env);
    if (result.problems) {
      bad++;
      for (const p of result.problems) out.error(formatProblem(p));
    } else {
      const { plan } = result;
      out.info(`${file}: valid (${plan.name}: ${plan.platform.kind} platform, ${plan.faults.length} fault(s), ${plan.checks.length} check(s), ${plan.durationMs / 1000}s)`);
    }
  }
  if (bad > 0) out.error(`${bad} of ${files.length} scenario file(s) invalid`);
  return bad > 0 ? ExitCode.InvalidInput : ExitCode.Passed;
}
