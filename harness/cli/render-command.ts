import { ExitCode } from '../core/exit-codes.js';
import { formatProblem } from '../core/errors.js';
import type { KubernetesOverride } from '../kube/from-scenario.js';
import { isRunId, newDatabasePassword, newRunId } from '../kube/labels.js';
import { objectsToYaml, renderKubernetesYaml } from '../kube/render.js';
import { planFromFile } from '../scenario/index.js';
import type { Output } from './output.js';

export interface RenderOptions {
  kubernetes?: KubernetesOverride;
  allowHosts?: readonly string[];
  /** The run id in the labels and names (default: a fresh one, as a run would have). */
  runId?: string;
  /** The run PostgreSQL's password (GAMEDAY_POSTGRES_PASSWORD; default: a fresh one, as a run would have). */
  databasePassword?: string;
  /** The rendered YAML goes here (stdout). */
  write: (text: string) => void;
}

/** Characters a password may have inside the Task API's DATABASE_URL without escaping. */
const PASSWORD = /^[A-Za-z0-9._~-]{8,128}$/;

/**
 * Prints the exact YAML a run of the scenario on Kubernetes would apply: the Task API and
 * PostgreSQL (a deploy), then each fault's chaos objects and Jobs. Nothing is contacted.
 */
export async function renderCommand(file: string, opts: RenderOptions, out: Output): Promise<ExitCode> {
  const bad = (message: string): ExitCode => {
    out.error(message);
    return ExitCode.InvalidInput;
  };
  if (opts.runId !== undefined && !isRunId(opts.runId)) return bad(`--run-id: expected 1 to 20 lowercase letters or digits, found ${JSON.stringify(opts.runId)}`);
  if (opts.databasePassword !== undefined && !PASSWORD.test(opts.databasePassword)) {
    return bad('GAMEDAY_POSTGRES_PASSWORD: expected 8 to 128 of letters, digits, ".", "_", "~" and "-" (it goes into a URL unescaped)');
  }
  const result = await planFromFile(file, process.env, { allowHosts: opts.allowHosts ?? [], ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}) });
  if (result.problems) {
    for (const p of result.problems) out.error(formatProblem(p));
    return ExitCode.InvalidInput;
  }
  const { plan } = result;
  if (plan.platform.kind !== 'kubernetes') {
    return bad(`${file}: runs on the ${plan.platform.kind} platform: render prints Kubernetes objects (give --platform kubernetes, or spec.platform.kubernetes)`);
  }
  const w = plan.platform.workload;
  if (w.kind === 'existing' && !w.selector) {
    return bad(`${file}: spec.platform.kubernetes.workload names Deployment ${w.deployment}, whose pod selector is known only on the cluster: give workload.selector to render without one`);
  }
  const runId = opts.runId ?? newRunId();
  let text = renderKubernetesYaml(plan, { runId, databasePassword: opts.databasePassword ?? newDatabasePassword() });
  const operator = plan.load.k6?.operator;
  if (operator && plan.load.k6 && plan.prometheus) {
    // k6 operator runners (spec.load.parallelism): applied once the workload is ready, as the run does.
    const { k6OperatorScript } = await import('../k6/plan.js');
    const { k6TestRun } = await import('../k6/testrun.js');
    const { objects } = k6TestRun(plan, plan.platform, { runId, parallelism: operator.parallelism, prometheusUrl: plan.prometheus.url, ...(plan.prometheus.remoteWriteUrl ? { remoteWriteUrl: plan.prometheus.remoteWriteUrl } : {}), script: k6OperatorScript(plan.load, plan.load.k6) });
    const comment = `k6 operator: ${operator.parallelism} runner pod(s) once the workload is ready; the run's zero when the TestRun is started; both deleted at the end`;
    text = `${text.replace(/# nothing to apply\n$/, '')}${objectsToYaml(objects.map((object, i) => ({ object, ...(i === 0 ? { comment } : {}) })))}`;
  }
  opts.write(text);
  return ExitCode.Passed;
}
