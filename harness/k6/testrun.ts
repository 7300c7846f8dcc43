import type { KubeObject } from '../kube/types.js';
import { runLabels } from '../kube/labels.js';
import type { KubernetesPlatformPlan } from '../kube/plan.js';
import type { Plan } from '../scenario/plan.js';

/**
 * Distributed load through the k6 operator (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/):
 * the exported script in a ConfigMap and a `TestRun` (k6.io/v1alpha1) with `parallelism` runners.
 * The operator splits the arrival rate among the runners (execution segments), so the script is the
 * one `gameday export k6` writes. Each runner remote-writes its samples to the cluster's Prometheus
 * (`-o experimental-prometheus-rw`, trends as native histograms, tagged `testid=<run id>`), so that
 * the percentiles come from the runners' histograms merged in Prometheus — a global figure, never an
 * average of per-runner percentiles (k6 alone does not evaluate thresholds across instances).
 */

/** A ConfigMap holds at most 1 MiB. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

export interface TestRunInput {
  runId: string;
  /** Runner pods. */
  parallelism: number;
  /** Base URL of the cluster's Prometheus (its remote-write receiver must be enabled). */
  prometheusUrl: string;
  /** The exported script (harness/k6/export.ts). */
  script: string;
}

export interface TestRunRender {
  objects: KubeObject[];
  /** What judges the run: PromQL over the merged native histograms of every runner. */
  queries: { p95: string; failedRatio: string; status5xx: string; droppedIterations: string };
}

/** The in-cluster URL the runners send to: the Service of a port-forward access, or the scenario's URL. */
export function inClusterTarget(k: KubernetesPlatformPlan): string {
  return k.access.kind === 'url' ? k.access.url : `http://${k.access.service}.${k.namespace}.svc.cluster.local:${k.access.port}`;
}

export function k6TestRun(plan: Pick<Plan, 'name'>, k: KubernetesPlatformPlan, input: TestRunInput): TestRunRender {
  const name = `k6-${input.runId}`;
  const labels = { ...runLabels(input.runId), 'gameday.dev/scenario': plan.name.slice(0, 63) };
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: k.namespace, labels },
    data: { 'script.js': input.script },
  };
  const writeUrl = `${input.prometheusUrl.replace(/\/+$/, '')}/api/v1/write`;
  const testRun: KubeObject = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name, namespace: k.namespace, labels },
    spec: {
      parallelism: input.parallelism,
      script: { configMap: { name, file: 'script.js' } },
      arguments: `--out experimental-prometheus-rw --tag testid=${input.runId}`,
      runner: {
        metadata: { labels },
        env: [
          { name: 'BASE_URL', value: inClusterTarget(k) },
          { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: writeUrl },
          // Native histograms: Prometheus merges every runner's buckets before taking a percentile.
          { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: 'true' },
          { name: 'K6_NO_USAGE_REPORT', value: 'true' },
        ],
      },
    },
  };
  const sel = `testid="${input.runId}"`;
  return {
    objects: [configMap, testRun],
    queries: {
      p95: `histogram_quantile(0.95, sum(rate(k6_http_req_duration_seconds{${sel}}[1m])))`,
      failedRatio: `sum(k6_http_reqs_total{${sel},expected_response="false"}) / sum(k6_http_reqs_total{${sel}})`,
      status5xx: `sum(k6_http_reqs_total{${sel},status=~"5.."})`,
      droppedIterations: `sum(k6_dropped_iterations_total{${sel}})`,
    },
  };
}
