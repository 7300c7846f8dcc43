import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode } from '../core/exit-codes.js';
import { InputError } from '../core/errors.js';
import { canonicalHost } from '../core/loopback.js';
import { addKubeFlags, kubeOverride, type KubeFlags } from './kube-flags.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    the spec held
  1    the spec failed (or the run was aborted by its guard), or the regression gate found a regression
  2    invalid input or usage; nothing was started
  3    the harness or its environment failed
  130  interrupted (after cleanup)`;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** --allow-host, repeatable: each value a bare host (no scheme, port, path or wildcard). */
function allowHost(value: string, previous: string[] = []): string[] {
  if (canonicalHost(value) === undefined) {
    throw new InvalidArgumentError(`expected a host name or IP address (no scheme, port, path or wildcard), such as orders.staging.example.com, found ${JSON.stringify(value)}`);
  }
  return [...previous, value];
}
const PARALLELISM_HELP = 'k6 operator: run spec.load.driver k6 on the cluster with this many runner pods, judged from Prometheus (overrides spec.load.parallelism)';
const ALLOW_HOST_HELP = 'let traffic go to this non-loopback host too (exact match; repeatable), as spec.target.allowHosts does';

function stepSummary(): { stepSummary?: string } {
  const file = process.env['GITHUB_STEP_SUMMARY'];
  return file ? { stepSummary: file } : {};
}

// Each command's modules load when it runs, so `--help` or `validate` does not pay for the charts,
// the platform or the load generator.
async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.Passed;
  const program = new Command('gameday')
    .description('Load tests and chaos Game Days: deploy, load, inject faults, judge recovery against the spec.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);

  addKubeFlags(program.command('run'))
    .description('run a Game Day scenario and write its reports')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('-o, --out <dir>', 'output directory', 'reports/latest')
    .option('-q, --quiet', 'print only errors and the verdict line')
    .option('--json', 'print machine events as JSON lines on stdout (nothing else on stdout)')
    .option('--baseline <result>', 'compare with a baseline result.json (or run directory); exit 1 on a regression')
    .option('--repeat <n>', 'run the Game Day n times; the regression gate pools the repetitions', positiveInt, 1)
    .option('--allow-host <host>', ALLOW_HOST_HELP, allowHost)
    .option('--prometheus <url>', "read the servers' view from this existing Prometheus (overrides spec.observe.prometheus.url)")
    .option('--prometheus-token-env <name>', 'send the bearer token held in this environment variable to it (overrides spec.observe.prometheus.bearerTokenEnv)')
    .option('--parallelism <n>', PARALLELISM_HELP, positiveInt)
    .action(async (file: string, o: KubeFlags & { out: string; quiet?: boolean; json?: boolean; baseline?: string; repeat: number; allowHost?: string[]; prometheus?: string; prometheusTokenEnv?: string; parallelism?: number }) => {
      const [{ choosePrinter }, { runCommand }] = await Promise.all([import('./printer.js'), import('./run-command.js')]);
      const printer = choosePrinter({ quiet: o.quiet, json: o.json }, { stdout: process.stdout, stderr: process.stderr, env: process.env });
      const allowHosts = o.allowHost ? { allowHosts: o.allowHost } : {};
      const prometheus = o.prometheus || o.prometheusTokenEnv ? { prometheus: { ...(o.prometheus ? { url: o.prometheus } : {}), ...(o.prometheusTokenEnv ? { bearerTokenEnv: o.prometheusTokenEnv } : {}) } } : {};
      const kubernetes = kubeOverride(o);
      code = await runCommand(file, { out: o.out, argv, repeat: o.repeat, ...(o.baseline ? { baseline: o.baseline } : {}), ...allowHosts, ...prometheus, ...(kubernetes ? { kubernetes } : {}), ...(o.parallelism !== undefined ? { parallelism: o.parallelism } : {}), ...stepSummary() }, printer);
    });

  program
    .command('report')
    .description('re-render every output (report.html, junit.xml, summary.md, latency.hlog) from a result.json')
    .argument('<result>', 'a result.json written by gameday run')
    .option('-o, --out <dir>', 'output directory (default: the result file\'s directory)')
    .action(async (file: string, o: { out?: string }) => {
      const [{ consoleOutput }, { reportCommand }] = await Promise.all([import('./output.js'), import('./report-command.js')]);
      code = await reportCommand(file, o, consoleOutput());
    });

  program
    .command('compare')
    .description('the regression gate: compare a current result with a baseline; exit 1 on a regression')
    .argument('<baseline>', 'baseline result.json, or a run directory (all repetitions of a --repeat run)')
    .argument('<current>', 'current result.json, or a run directory')
    .option('--json', 'print the comparison as JSON instead of a Markdown table')
    .action(async (baseline: string, current: string, o: { json?: boolean }) => {
      const [{ consoleOutput }, { compareCommand }] = await Promise.all([import('./output.js'), import('./compare-command.js')]);
      code = await compareCommand(baseline, current, { ...o, ...stepSummary() }, consoleOutput());
    });

  addKubeFlags(program.command('validate'))
    .description('validate scenario files; starts nothing')
    .argument('<scenarios...>', 'scenario files (YAML)')
    .option('--allow-host <host>', ALLOW_HOST_HELP, allowHost)
    .option('--parallelism <n>', PARALLELISM_HELP, positiveInt)
    .option('--prometheus <url>', 'the existing Prometheus a run would read (and k6 operator runners write to); overrides spec.observe.prometheus.url')
    .action(async (files: string[], o: KubeFlags & { allowHost?: string[]; parallelism?: number; prometheus?: string }) => {
      const [{ consoleOutput }, { validateCommand }] = await Promise.all([import('./output.js'), import('./validate-command.js')]);
      code = await validateCommand(files, consoleOutput(), o.allowHost ?? [], kubeOverride(o), {
        ...(o.parallelism !== undefined ? { parallelism: o.parallelism } : {}),
        ...(o.prometheus !== undefined ? { prometheus: { url: o.prometheus } } : {}),
      });
    });

  addKubeFlags(program.command('render'))
    .description('print the exact YAML a run on Kubernetes would apply (Task API, PostgreSQL, chaos objects, Jobs); contacts nothing')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('--run-id <id>', 'the run id in labels and names (default: a fresh one, as a run has)')
    .option('--allow-host <host>', ALLOW_HOST_HELP, allowHost)
    .action(async (file: string, o: KubeFlags & { runId?: string; allowHost?: string[] }) => {
      const [{ consoleOutput }, { renderCommand }] = await Promise.all([import('./output.js'), import('./render-command.js')]);
      const password = process.env['GAMEDAY_POSTGRES_PASSWORD'];
      const kubernetes = kubeOverride(o);
      code = await renderCommand(
        file,
        { ...(kubernetes ? { kubernetes } : {}), allowHosts: o.allowHost ?? [], ...(o.runId !== undefined ? { runId: o.runId } : {}), ...(password ? { databasePassword: password } : {}), write: (t) => process.stdout.write(t) },
        consoleOutput(),
      );
    });

  program
    .command('capacity')
    .description('capacity planning: the knee (N, N-1, under faults), recovery after mass termination, the forecast (spec.capacity)')
    .argument('<scenario>', 'scenario file (YAML) with spec.capacity')
    .option('-o, --out <dir>', 'output directory', 'reports/capacity')
    .option('--baseline <capacity>', 'compare with a baseline capacity.json (or its directory); exit 1 when a knee regressed')
    .option('--allow-host <host>', ALLOW_HOST_HELP, allowHost)
    .action(async (file: string, o: { out: string; baseline?: string; allowHost?: string[] }) => {
      const [{ consoleOutput }, { capacityCommand }] = await Promise.all([import('./output.js'), import('./capacity-command.js')]);
      code = await capacityCommand(file, { out: o.out, ...(o.baseline ? { baseline: o.baseline } : {}), allowHosts: o.allowHost ?? [] }, consoleOutput());
    });

  addKubeFlags(program.command('export'))
    .description('write the scenario\'s workload as a k6 script (arrival-rate executors, named requests, thresholds from checks), or with --parallelism a k6 operator TestRun; contacts nothing')
    .argument('<format>', 'k6')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('-o, --out <file>', 'write to this file (default: stdout)')
    .option('--parallelism <n>', 'render a k6 operator TestRun with this many runner pods (the script in a ConfigMap)', positiveInt)
    .option('--prometheus <url>', 'TestRun: the cluster Prometheus the runners remote-write to (default: spec.observe.prometheus.url)')
    .option('--run-id <id>', 'TestRun: the run id in names and labels (default: a fresh one)')
    .option('--allow-host <host>', ALLOW_HOST_HELP, allowHost)
    .action(async (format: string, file: string, o: KubeFlags & { out?: string; parallelism?: number; prometheus?: string; runId?: string; allowHost?: string[] }) => {
      const [{ consoleOutput }, { exportCommand }] = await Promise.all([import('./output.js'), import('./export-command.js')]);
      const kubernetes = kubeOverride(o);
      code = await exportCommand(
        format,
        file,
        {
          allowHosts: o.allowHost ?? [],
          ...(kubernetes ? { kubernetes } : {}),
          ...(o.out !== undefined ? { outFile: o.out } : {}),
          ...(o.parallelism !== undefined ? { parallelism: o.parallelism } : {}),
          ...(o.prometheus !== undefined ? { prometheusUrl: o.prometheus } : {}),
          ...(o.runId !== undefined ? { runId: o.runId } : {}),
          write: (t) => process.stdout.write(t),
        },
        consoleOutput(),
      );
    });

  program
    .command('verify')
    .description("the spec's conformance checks (SC-001..SC-006, chaos safety) on manifests, or on the cluster with --live; starts nothing")
    .argument('[paths...]', 'manifest files or directories (static mode)')
    .option('--live', 'read the cluster instead (kubeconfig like kubectl)')
    .option('-n, --namespace <name>', "the workload's namespace (static: the Deployment's; live: the context's)")
    .option('--context <name>', 'live: the kubeconfig context')
    .option('--deployment <name>', 'the Deployment of the workload', 'task-api')
    .option('--schedule <cron>', 'the backup schedule SC-004 expects', '0 2 * * *')
    .option('--opencost <url>', 'the OpenCost API (a port-forward, http://127.0.0.1:9003) for SC-002; without it SC-002 is not evaluated')
    .option('--opencost-window <window>', 'the allocation window queried', '1d')
    .option('--allow-namespace <pattern>', 'chaos review: allow this namespace too (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--allow-production', 'chaos review: allow a production namespace')
    .option('--allow-mode-all', 'chaos review: allow mode all / fixed-percent above 50')
    .action(async (paths: string[], o: import('./verify-command.js').VerifyOptions) => {
      const [{ consoleOutput }, { verifyCommand }] = await Promise.all([import('./output.js'), import('./verify-command.js')]);
      code = await verifyCommand(paths, o, consoleOutput());
    });

  program
    .command('cleanup')
    .description('delete what a Kubernetes run left behind (a harness killed mid-run), found by its run label; verified')
    .option('--run <id>', 'the run id (printed when the run starts; kube.context in result.json)')
    .option('--all-runs', 'every run\'s objects in the namespace')
    .option('-n, --namespace <ns>', 'the namespace (default: the context\'s)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('--timeout <seconds>', 'how long to wait for the deletions to be confirmed', positiveInt, 60)
    .action(async (o: { run?: string; allRuns?: boolean; namespace?: string; context?: string; timeout: number }) => {
      const [{ consoleOutput }, { cleanupCommand }] = await Promise.all([import('./output.js'), import('./cleanup-command.js')]);
      code = await cleanupCommand({ ...o, timeoutMs: o.timeout * 1000 }, consoleOutput());
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.Passed : ExitCode.InvalidInput;
    }
    if (err instanceof InputError) {
      process.stderr.write(`${err.message}\n`);
      return ExitCode.InvalidInput;
    }
    process.stderr.write(`gameday: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.HarnessError;
  }
}

// The only place gameday exits the process.
process.exit(await main(process.argv.slice(2)));
