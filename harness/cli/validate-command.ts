import { ExitCode } from '../core/exit-codes.js';
import { formatProblem } from '../core/errors.js';
import { planFromFile, type PlanResult } from '../scenario/index.js';
import type { Output } from './output.js';
import type { KubernetesOverride } from '../kube/from-scenario.js';
import type { PrometheusOverride } from '../scenario/prometheus-plan.js';

/** Flags of `validate` that a run takes too: k6 operator runners and the Prometheus they write to. */
export interface ValidateExtras {
  /** --parallelism (over spec.load.parallelism). */
  parallelism?: number;
  /** --prometheus (over spec.observe.prometheus.url). */
  prometheus?: PrometheusOverride;
}

/**
 * Validates every file, reporting every problem of every file; starts nothing. A file that breaks
 * the validator itself is reported as a harness failure (exit 3), and the files after it are still
 * checked.
 */
export async function validateCommand(files: string[], out: Output, allowHosts: readonly string[] = [], kubernetes?: KubernetesOverride, extras: ValidateExtras = {}): Promise<ExitCode> {
  let bad = 0;
  let broken = 0;
  for (const file of files) {
    let result: PlanResult;
    try {
      result = await planFromFile(file, process.env, { allowHosts, secretsRequired: false, ...(kubernetes ? { kubernetes } : {}), ...(extras.parallelism !== undefined ? { k6Parallelism: extras.parallelism } : {}), ...(extras.prometheus ? { prometheus: extras.prometheus } : {}) });
    } catch (err) {
      broken++;
      out.error(`${file}: validation failed: ${(err as Error).stack ?? String(err)}`);
      continue;
    }
    // spec.capacity's rules across fields (gameday capacity checks them too, before anything starts).
    if (!result.problems) {
      const { capacityProblems } = await import('../capacity/plan.js');
      const problems = await capacityProblems(file, result.plan);
      if (problems.length > 0) result = { problems };
    }
    if (result.problems) {
      bad++;
      for (const p of result.problems) out.error(formatProblem(p));
    } else {
      const { plan } = result;
      out.info(`${file}: valid (${plan.name}: ${plan.platform.kind} platform, ${plan.faults.length} fault(s), ${plan.checks.length} check(s), ${plan.durationMs / 1000}s)`);
    }
  }
  if (bad > 0) out.error(`${bad} of ${files.length} scenario file(s) invalid`);
  if (broken > 0) return ExitCode.HarnessError;
  return bad > 0 ? ExitCode.InvalidInput : ExitCode.Passed;
}
