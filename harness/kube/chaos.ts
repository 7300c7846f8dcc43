import type { FaultPlan, NetworkDelayFaultPlan, PodKillFaultPlan, PoolExhaustionFaultPlan } from '../scenario/plan.js';
import { faultObjectName, FAULT_LABEL, runLabels } from './labels.js';
import type { KubernetesPlatformPlan, LabelSelector } from './plan.js';
import type { KubeObject } from './types.js';
import { postgresSelector } from './workload.js';

export const CHAOS_API_VERSION = 'chaos-mesh.org/v1alpha1';

/** What a fault's objects are built from besides the fault. */
export interface FaultObjectsInput {
  platform: KubernetesPlatformPlan;
  runId: string;
  /**
   * matchLabels of the workload's pods: taskApiSelector(runId) for a deploy, the scenario's
   * selector, or the named Deployment's spec.selector.matchLabels read at run time.
   */
  podSelector: LabelSelector;
}

/**
 * A duration as Chaos Mesh's patterns take it: one number and one unit ("15s", "1500ms"); its
 * latency and jitter fields refuse Go's compound form ("1s500ms").
 */
export function chaosDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The objects that inject one fault, applied at its start and deleted at its end:
 * pod-kill → PodChaos, network-delay → NetworkChaos, pool-exhaustion hold/lock → a Job running psql
 * against the run's PostgreSQL. A leak (the Task API's fault endpoint, reached through the
 * port-forward), exec and http faults create no object: [].
 */
export function faultObjects(fault: FaultPlan, index: number, input: FaultObjectsInput): KubeObject[] {
  switch (fault.kind) {
    case 'pod-kill':
      return [podChaos(fault, index, input)];
    case 'network-delay':
      return [networkChaos(fault, index, input)];
    case 'pool-exhaustion':
      return fault.mode === 'leak' ? [] : [poolJob(fault, index, input)];
    default:
      return [];
  }
}

function metadata(fault: FaultPlan, index: number, input: FaultObjectsInput): KubeObject['metadata'] {
  return {
    name: faultObjectName(fault.name, index, input.runId),
    namespace: input.platform.namespace,
    labels: { ...runLabels(input.runId), [FAULT_LABEL]: fault.name },
  };
}

/** `value` as Chaos Mesh wants it: a string, for fixed and fixed-percent only. */
function selection(mode: PodKillFaultPlan['mode'], value: number | undefined): { mode: string; value?: string } {
  return { mode, ...(value !== undefined && (mode === 'fixed' || mode === 'fixed-percent') ? { value: String(value) } : {}) };
}

/** The seed's PodChaos (task-api-podchaos.yaml), in the run's namespace, on the workload's pods. */
export function podChaos(fault: PodKillFaultPlan, index: number, input: FaultObjectsInput): KubeObject {
  return {
    apiVersion: CHAOS_API_VERSION,
    kind: 'PodChaos',
    metadata: metadata(fault, index, input),
    spec: {
      action: 'pod-kill',
      ...selection(fault.mode, fault.value),
      selector: { namespaces: [input.platform.namespace], labelSelectors: { ...input.podSelector } },
      duration: chaosDuration(fault.durationMs),
    },
  };
}

/**
 * NetworkChaos `delay` on the path the local platform delays: from every workload pod (mode all:
 * the delay kills nothing and applies to the whole path, as locally) to the PostgreSQL pods (target).
 */
export function networkChaos(fault: NetworkDelayFaultPlan, index: number, input: FaultObjectsInput): KubeObject {
  const ns = input.platform.namespace;
  const w = input.platform.workload;
  const database = w.kind === 'deploy' ? postgresSelector(input.runId) : w.databaseSelector;
  return {
    apiVersion: CHAOS_API_VERSION,
    kind: 'NetworkChaos',
    metadata: metadata(fault, index, input),
    spec: {
      action: 'delay',
      mode: 'all',
      selector: { namespaces: [ns], labelSelectors: { ...input.podSelector } },
      direction: fault.direction,
      target: { mode: 'all', selector: { namespaces: [ns], labelSelectors: { ...database } } },
      delay: {
        latency: chaosDuration(fault.delay.latencyMs),
        jitter: chaosDuration(fault.delay.jitterMs),
        correlation: String(fault.delay.correlation),
      },
      duration: chaosDuration(fault.durationMs),
    },
  };
}

/** Seconds a Job may run beyond its fault's duration: pulling psql's image and waiting for a lock. */
const JOB_SLACK_S = 60;
/** hold without a count: at most this many sessions, as the local platform (harness/faults/pool-sessions.ts). */
const MAX_HELD = 10_000;
/** hold: sessions opened at once (psql starts in 0.1-0.3 s; one by one, 100 slots would take 20 s). */
const HOLD_BATCH = 20;
/** lock: how long the Job waits for the table (the local platform gives up after 30 s too). */
const LOCK_WAIT = '30s';

/**
 * The local platform's SQL (harness/faults/pool-exhaustion.ts), in psql. lock: one session takes
 * ACCESS EXCLUSIVE on tasks and stays idle in its transaction; hold: idle sessions opened in small
 * batches until HOLD_CONNECTIONS (default 10 000) or until the server refuses one. Each session
 * ends when its stdin closes after HOLD_SECONDS, when the Job's pod dies (the Job is deleted at
 * recovery), or at the latest by the server's idle timeouts, so the fault is bounded three ways.
 */
export const POOL_LOCK_SCRIPT = `set -eu
{
  echo "SET lock_timeout = '${LOCK_WAIT}';"
  echo "SET idle_in_transaction_session_timeout = '$((HOLD_SECONDS + 5))s';"
  echo "BEGIN;"
  echo "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE;"
  echo "\\\\echo gameday: table tasks locked"
  sleep "$HOLD_SECONDS"
  echo "ROLLBACK;"
} | psql -X -q -v ON_ERROR_STOP=1
echo "gameday: lock released"
`;

export const POOL_HOLD_SCRIPT = `set -u
limit="\${HOLD_CONNECTIONS:-${MAX_HELD}}"
held=0
opened=0
# Sessions in batches of ${HOLD_BATCH}, each confirmed, until the limit or a batch with a refusal.
while [ "$held" -lt "$limit" ]; do
  batch=$((limit - held < ${HOLD_BATCH} ? limit - held : ${HOLD_BATCH}))
  pids=(); outs=()
  for ((j = 0; j < batch; j++)); do
    out="\${TMPDIR:-/tmp}/gameday-hold.$opened"
    opened=$((opened + 1))
    { echo "SET idle_session_timeout = '$((HOLD_SECONDS + 5))s';"; echo "\\\\echo connected"; sleep "$HOLD_SECONDS"; } | psql -X -q > "$out" 2>&1 &
    pids+=("$!"); outs+=("$out")
  done
  refused=0
  for ((j = 0; j < batch; j++)); do
    until grep -q connected "\${outs[j]}" 2>/dev/null || ! kill -0 "\${pids[j]}" 2>/dev/null; do sleep 0.02; done
    if grep -q connected "\${outs[j]}"; then held=$((held + 1)); else refused=1; fi
  done
  [ "$refused" -eq 0 ] || break
done
echo "gameday: holding $held connections"
wait
echo "gameday: connections released"
`;

/** A Job running the hold or lock SQL with psql against the run's PostgreSQL (deploy only). */
export function poolJob(fault: PoolExhaustionFaultPlan, index: number, input: FaultObjectsInput): KubeObject {
  const w = input.platform.workload;
  const image = w.kind === 'deploy' ? w.postgresImage : 'postgres:17';
  const seconds = Math.ceil(fault.durationMs / 1000);
  const meta = metadata(fault, index, input);
  const secret = (key: string) => ({ valueFrom: { secretKeyRef: { name: 'postgres', key } } });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: seconds + JOB_SLACK_S,
      ttlSecondsAfterFinished: 300,
      template: {
        metadata: { labels: { ...meta.labels } },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'psql',
              image,
              command: ['/bin/bash', '-c', fault.mode === 'lock' ? POOL_LOCK_SCRIPT : POOL_HOLD_SCRIPT],
              env: [
                { name: 'PGHOST', value: 'postgres' },
                { name: 'PGPORT', value: '5432' },
                { name: 'PGUSER', ...secret('POSTGRES_USER') },
                { name: 'PGPASSWORD', ...secret('POSTGRES_PASSWORD') },
                { name: 'PGDATABASE', ...secret('POSTGRES_DB') },
                { name: 'PGAPPNAME', value: `gameday-fault-${fault.name}` },
                { name: 'PGCONNECT_TIMEOUT', value: '2' },
                { name: 'HOLD_SECONDS', value: String(seconds) },
                ...(fault.mode === 'hold' && fault.connections !== undefined ? [{ name: 'HOLD_CONNECTIONS', value: String(fault.connections) }] : []),
              ],
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
            },
          ],
        },
      },
    },
  };
}
