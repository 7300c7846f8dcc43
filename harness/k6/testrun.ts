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
  /** Where the runners write, as pods reach it (spec.observe.prometheus.remoteWriteUrl); default: prometheusUrl + /api/v1/write. */
  remoteWriteUrl?: string;
  /** The exported script (harness/k6/export.ts). */
  script: string;
}

export interface TestRunRender {
  objects: KubeObject[];
  /** K6_PROMETHEUS_RW_SERVER_URL: where the runners write. */
  writeUrl: string;
  /**
   * PromQL over the merged native histograms and counters of every runner, for the whole run:
   * `$__window` stands for the run's length (withWindow in harness/observe/prometheus-query.ts), each
   * evaluated at the run's end. Prometheus's own reading, beside gameday's (harness/k6/prometheus-feed.ts,
   * exact counts per push): increase() extrapolates to the window's edges and counts nothing of a
   * series' first sample, so its figures are approximate.
   */
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
  const writeUrl = input.remoteWriteUrl ?? `${input.prometheusUrl.replace(/\/+$/, '')}/api/v1/write`;
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
          // A push a second (k6's default is 5 s): the time resolution of the figures read back.
          { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: '1s' },
          { name: 'K6_NO_USAGE_REPORT', value: 'true' },
        ],
      },
    },
  };
  // The load only: setup() and teardown() requests are tagged with their group.
  const sel = `testid="${input.runId}",group!~"::setup.*|::teardown.*"`;
  const win = '[$__window]';
  return {
    objects: [configMap, testRun],
    writeUrl,
    queries: {
      p95: `histogram_quantile(0.95, sum(increase(k6_http_req_duration_seconds{${sel}}${win})))`,
      failedRatio: `sum(increase(k6_http_reqs_total{${sel},expected_response="false"}${win})) / sum(increase(k6_http_reqs_total{${sel}}${win}))`,
      status5xx: `sum(increase(k6_http_reqs_total{${sel},status=~"5.."}${win}))`,
      droppedIterations: `sum(increase(k6_dropped_iterations_total{testid="${input.runId}"}${win}))`,
    },
  };
}
