import { writeFileSync } from 'node:fs';
import { ExitCode } from '../core/exit-codes.js';
import { formatProblem } from '../core/errors.js';
import { exportK6Script } from '../k6/export.js';
import { CONFIGMAP_MAX_BYTES, k6TestRun } from '../k6/testrun.js';
import type { KubernetesOverride } from '../kube/from-scenario.js';
import { isRunId, newRunId } from '../kube/labels.js';
import { objectsToYaml } from '../kube/render.js';
import { planFromFile } from '../scenario/index.js';
import type { Output } from './output.js';

export interface ExportOptions {
  allowHosts?: readonly string[];
  kubernetes?: KubernetesOverride;
  /** Write the output here; absent: to `write` (stdout). */
  outFile?: string;
  /** Render a k6 operator TestRun with this many runners (and the script in a ConfigMap) instead of the script. */
  parallelism?: number;
  /** The cluster Prometheus the runners remote-write to (default: spec.observe.prometheus.url). */
  prometheusUrl?: string;
  runId?: string;
  write: (text: string) => void;
}

/**
 * `gameday export k6 <scenario>`: the scenario's workload and load model as a k6 script (see
 * harness/k6/export.ts); with `--parallelism N`, the k6 operator's TestRun running it on N pods
 * (harness/k6/testrun.ts). Exit 2 with every problem when the scenario is invalid or its workload
 * uses what k6 cannot run; nothing is contacted.
 */
export async function exportCommand(format: string, file: string, opts: ExportOptions, out: Output): Promise<ExitCode> {
  const bad = (message: string): ExitCode => {
    out.error(message);
    return ExitCode.InvalidInput;
  };
  if (format !== 'k6') return bad(`export: expected a format: k6, found ${JSON.stringify(format)}`);
  if (opts.runId !== undefined && !isRunId(opts.runId)) return bad(`--run-id: expected 1 to 20 lowercase letters or digits, found ${JSON.stringify(opts.runId)}`);
  // Exporting needs no k6 binary: plan as `gameday validate` does. --prometheus names the cluster's
  // Prometheus for the runners (it stands for spec.observe.prometheus.url, which a scenario with
  // spec.load.parallelism needs); export contacts nothing, so its host needs no --allow-host.
  let promHost: string | undefined;
  if (opts.prometheusUrl !== undefined) {
    try {
      promHost = new URL(opts.prometheusUrl).hostname;
    } catch {
      return bad(`--prometheus: expected an http:// or https:// URL, found ${JSON.stringify(opts.prometheusUrl)}`);
    }
  }
  const result = await planFromFile(file, process.env, {
    allowHosts: [...(opts.allowHosts ?? []), ...(promHost ? [promHost] : [])],
    secretsRequired: false,
    ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}),
    ...(opts.prometheusUrl !== undefined ? { prometheus: { url: opts.prometheusUrl } } : {}),
  });
  if (result.problems) {
    for (const p of result.problems) out.error(formatProblem(p));
    return ExitCode.InvalidInput;
  }
  const { plan } = result;
  const { script, problems } = exportK6Script(plan);
  if (problems.length > 0) {
    for (const p of problems) out.error(formatProblem({ file, ...p }));
    return ExitCode.InvalidInput;
  }
  let text = script;
  if (opts.parallelism !== undefined) {
    if (plan.platform.kind !== 'kubernetes') return bad(`${file}: runs on the ${plan.platform.kind} platform: a k6 operator TestRun needs the kubernetes platform (give --platform kubernetes, or spec.platform.kubernetes)`);
    const prometheusUrl = opts.prometheusUrl ?? plan.prometheus?.url;
    if (prometheusUrl === undefined) return bad(`${file}: spec.observe.prometheus.url: expected the cluster's Prometheus for the runners' remote write (or --prometheus <url>), found nothing`);
    const bytes = Buffer.byteLength(script);
    if (bytes > CONFIGMAP_MAX_BYTES) return bad(`${file}: spec.workload: expected a script of at most 1 MiB for its ConfigMap, found ${bytes} bytes (inline pool values; use discover instead)`);
    const runId = opts.runId ?? newRunId();
    const remoteWriteUrl = opts.prometheusUrl === undefined ? plan.prometheus?.remoteWriteUrl : undefined;
    const rendered = k6TestRun(plan, plan.platform, { runId, parallelism: opts.parallelism, prometheusUrl, ...(remoteWriteUrl ? { remoteWriteUrl } : {}), script });
    const header = [
      `k6 operator TestRun for scenario ${plan.name}: ${opts.parallelism} runner(s), run id ${runId}, namespace ${plan.platform.namespace}`,
      `The runners remote-write to ${rendered.writeUrl} (the receiver and native histograms enabled there);`,
      'the verdict is global, from the runners\' histograms merged in Prometheus (not an average of per-runner percentiles):',
      `  p95:             ${rendered.queries.p95}`,
      `  failed ratio:    ${rendered.queries.failedRatio}`,
      `  5xx:             ${rendered.queries.status5xx}`,
      `  dropped:         ${rendered.queries.droppedIterations}`,
      "k6's own thresholds run per runner only (k6 does not evaluate them across instances).",
    ].join('\n');
    text = objectsToYaml(rendered.objects.map((object) => ({ object })), header);
  }
  if (opts.outFile === undefined) opts.write(text);
  else writeFileSync(opts.outFile, text);
  return ExitCode.Passed;
}
