import { dirname, resolve } from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import { writeOutputs } from '../report/outputs.js';
import { readResult } from '../report/read-result.js';
import type { Output } from './output.js';

/** Re-renders every output (report.html, junit.xml, summary.md, latency.hlog, result.json) from a result.json. */
export async function reportCommand(file: string, opts: { out?: string }, out: Output): Promise<ExitCode> {
  const capacity = await import('./capacity-command.js');
  if (await capacity.isCapacityPath(file)) return capacity.capacityReportCommand(file, opts.out, out);
  const result = await readResult(file);
  const dir = resolve(opts.out ?? dirname(file));
  const written = await writeOutputs(dir, result);
  out.info(`gameday report: ${result.scenario.name} (${result.verdict}) → ${written.join(', ')}`);
  return ExitCode.Passed;
}
