import { SystemClock } from '../core/clock.js';
import { ExitCode } from '../core/exit-codes.js';
import { isRunId, RUN_LABEL, runSelector } from '../kube/labels.js';
import type { Output } from './output.js';

export interface CleanupOptions {
  run?: string;
  allRuns?: boolean;
  namespace?: string;
  context?: string;
  /** How long to wait for the API to confirm the deletions. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * `gameday cleanup --run <id>` / `--all-runs`: deletes what a run that could not clean up (a harness
 * killed with SIGKILL, a lost connection) left in a namespace, found by its run label, chaos objects
 * first, and verifies the API has nothing of it left. Exit 0 when nothing is left, 3 when something
 * is (named), 2 for bad usage.
 */
export async function cleanupCommand(o: CleanupOptions, out: Output): Promise<number> {
  if (o.run !== undefined && o.allRuns) {
    out.error('gameday cleanup: give --run <id> or --all-runs, not both');
    return ExitCode.InvalidInput;
  }
  if (o.run === undefined && !o.allRuns) {
    out.error('gameday cleanup: expected --run <id> (the run id printed at the start of the run, in result.json\'s kube.context event) or --all-runs');
    return ExitCode.InvalidInput;
  }
  if (o.run !== undefined && !isRunId(o.run)) {
    out.error(`gameday cleanup: --run: expected a run id (1-20 lowercase letters and digits), found ${JSON.stringify(o.run)}`);
    return ExitCode.InvalidInput;
  }
  const selector = o.run !== undefined ? runSelector(o.run) : RUN_LABEL;
  // The client library loads only once the usage is known to be right.
  const [{ deleteLabelled }, { KubeClient }, { connect }, { KubeApiError }] = await Promise.all([
    import('../platform/kubernetes/cleanup.js'),
    import('../platform/kubernetes/client.js'),
    import('../platform/kubernetes/config.js'),
    import('../platform/kubernetes/errors.js'),
  ]);
  try {
    const conn = connect({ ...(o.context ? { context: o.context } : {}), ...(o.namespace ? { namespace: o.namespace } : {}), ...(o.env ? { env: o.env } : {}) });
    out.info(`gameday cleanup: context ${conn.context}, namespace ${conn.namespace}, objects labelled ${selector}`);
    const client = new KubeClient(conn.kc, conn.namespace);
    const result = await deleteLabelled(client, selector, o.timeoutMs, new SystemClock());
    for (const d of result.deleted) out.info(`deleted ${d}`);
    // Kinds it may not list (a Role without access to the velero namespace): not checked, and said so.
    for (const u of result.unreadable) out.info(`not checked (cannot be listed): ${u}`);
    if (result.absentKinds.some((k) => k.endsWith('Chaos'))) out.info(`(no Chaos Mesh objects: the cluster does not serve ${result.absentKinds.filter((k) => k.endsWith('Chaos')).join(', ')})`);
    if (result.leftovers.length > 0) {
      for (const l of result.leftovers) out.error(`left: ${l}`);
      return ExitCode.HarnessError;
    }
    out.info(result.deleted.length === 0 ? `nothing labelled ${selector} in namespace ${conn.namespace}` : `${result.deleted.length} objects deleted; none left`);
    return ExitCode.Passed;
  } catch (err) {
    out.error(`gameday cleanup: ${(err as Error).message}`);
    return err instanceof KubeApiError ? err.exitCode : ExitCode.HarnessError;
  }
}
