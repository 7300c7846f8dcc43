import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { findPrometheus, startPrometheus, type PrometheusServer } from '../../harness/platform/local/prometheus.js';
import { buildResult, type ResultDocument } from '../../harness/report/result.js';
import { renderMarkdown } from '../../harness/report/markdown.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { PHASE_NAMES } from '../../harness/scenario/plan.js';
import { selectPhases } from '../../harness/timeline/merge.js';
import { planFromText } from '../../harness/scenario/index.js';
import { startFakeKube, type FakeKube } from '../kube/fake/index.js';

/**
 * A Game Day whose load comes from 3 k6 operator runners, end to end: the fake API server's
 * simulated operator starts each runner pod as a process (operator-runner.ts) that sends real
 * requests to the target and remote-writes them as k6 does (native histograms, 1 s pushes) into a
 * real Prometheus 2.42; gameday reads them back with its Prometheus feed into the run's timeline.
 * The target answers each runner at its own speed (1, 200, 500 ms) and each runner reports
 * latencies of that order (5, 200, 500 ms, up to 20 % more; its own, so that the figures do not
 * depend on the machine's load), so a global percentile (the union's) is far from an average of
 * per-runner ones.
 */

const NS = 'gameday-k6';
const RUNNER = fileURLToPath(new URL('./operator-runner.ts', import.meta.url));
const DELAY_MS: Record<string, number> = { '1': 1, '2': 200, '3': 500 };
/** The latencies each runner reports (its own, not measured: the figures must not depend on the machine's load). */
const LATENCY_MS: Record<number, string> = { 1: '5', 2: '200', 3: '500' };
/** Requests per second of each runner: the fast one sends most, so the union's median is its. */
const RATE: Record<number, string> = { 1: '60', 2: '15', 3: '15' };

const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';

/** The value HdrHistogram's getValueAtPercentile picks: rank round(p·n), at least 1. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.floor((p / 100) * sorted.length + 0.5)) - 1]!;
}

describe.skipIf(!!why)(`k6 operator runners judged from a real Prometheus${why ? ` (skipped: ${why})` : ''}`, () => {
  let kube: FakeKube;
  let prom: PrometheusServer;
  let target: Server;
  let dir = '';
  let result: ResultDocument;
  let outcome: Awaited<ReturnType<typeof runGameDay>>;
  const events: JournalEvent[] = [];
  let truth: { sent: number; latencies: number[] }[] = [];
  let pushMs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gd-k6-operator-e2e-'));
    target = createServer((req, res) => setTimeout(() => res.end('ok'), DELAY_MS[String(req.headers['x-runner'])] ?? 0));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    [prom, kube] = await Promise.all([
      startPrometheus((binary as { path: string }).path, { flags: ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms'] }),
      startFakeKube({
        namespaces: ['default', { name: NS, labels: { environment: 'staging' } }],
        timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 },
        k6Operator: { runner: (s) => ({ command: process.execPath, args: ['--import', 'tsx', RUNNER, ...s.args], env: { OUT_DIR: dir, RUNNER_RATE: RATE[s.index] ?? '15', RUNNER_MS: '4000', LATENCY_MS: LATENCY_MS[s.index] ?? '5' } }) },
      }),
    ]);
    kube.create('pods', { metadata: { name: 'svc-0', namespace: NS, labels: { app: 'svc' } }, spec: { containers: [{ name: 'svc', image: 'svc:1' }] } });
    const planned = planFromText(
      `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: k6-operator-e2e }
spec:
  duration: 6s
  warmup: 1s
  platform:
    kubernetes: { namespace: ${NS}, workload: { selector: { app: svc } }, url: "${url}", readyTimeout: 30s }
  observe: { prometheus: { url: "${prom.url}" } }
  load: { model: open, rate: 90, driver: k6, parallelism: 3 }
  workload:
    requests:
      - { name: get-item, weight: 1, path: /items/1 }
  checks: [{ id: P95, name: p95, metric: latency.p95, target: "< 1s" }]
`,
      { env: process.env },
    );
    expect(planned.problems).toBeUndefined();
    const plan = planned.plan!;
    process.env['KUBECONFIG'] = kube.kubeconfigPath;
    try {
      outcome = await runGameDay(plan, { outDir: join(dir, 'out'), signal: new AbortController().signal, onEvent: (e) => events.push(e) });
    } finally {
      delete process.env['KUBECONFIG'];
    }
    const run = String(events.find((e) => e.type === 'kube.context')?.detail?.['run']);
    truth = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(dir, `k6-${run}-${i}.json`), 'utf8')) as { sent: number; latencies: number[] });
    result = buildResult(plan, outcome.analysis!, outcome.status, {}, outcome.load);
  }, 60_000);

  afterAll(async () => {
    await kube?.close();
    await prom?.stop();
    await new Promise((r) => target?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('every request of every runner is in the timeline, read back from Prometheus', () => {
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.status).toBe('completed');
    const sent = truth.reduce((s, t) => s + t.sent, 0);
    expect(truth.map((t) => t.sent)).toEqual([240, 60, 60]);
    expect(outcome.load?.completed).toBe(sent);
    // In the run's timeline (every phase, warm-up included): each one of them.
    expect(selectPhases(outcome.analysis!.timeline, PHASE_NAMES).count).toBe(sent);
    const totals = events.find((e) => e.type === 'k6.operator.totals')!;
    expect(totals.detail).toMatchObject({ parallelism: 3, runnerPods: 3, runnersReporting: 3, outcomes: sent, lastStage: 'finished' });
    // Measured by the feed from the samples' spacing: the runners push every second (a busy machine stretches it).
    pushMs = Number(totals.detail?.['pushIntervalMs']);
    expect(pushMs).toBeGreaterThanOrEqual(800);
    expect(pushMs).toBeLessThan(3000);
  });

  it("the percentiles are the union's (merged histograms), not the mean of the runners'", () => {
    const union = truth.flatMap((t) => t.latencies);
    const p50 = percentile(union, 50);
    const p95 = percentile(union, 95);
    // The scenario is built so that the two differ: an average of per-runner medians (~5, 200, 500 ms)
    // is many times the union's (the fast runner's, which sends 2/3 of the requests).
    const meanOfP50 = truth.reduce((s, t) => s + percentile(t.latencies, 50), 0) / 3;
    const all = selectPhases(outcome.analysis!.timeline, PHASE_NAMES);
    const seen = JSON.stringify({ p50, p95, meanOfP50, timeline: { p50: all.p50Ms, p95: all.p95Ms } });
    expect(meanOfP50 / p50, seen).toBeGreaterThan(20);
    // Every outcome of the run (warm-up included, as the truth): within a native bucket (9 % wide) of the union's.
    expect(Math.abs(all.p50Ms! - p50) / p50, seen).toBeLessThan(0.1);
    expect(Math.abs(all.p95Ms! - p95) / p95, seen).toBeLessThan(0.1);
  });

  it('the summary says 3 runners and a global verdict', () => {
    const md = renderMarkdown(result);
    expect(md).toContain('3 runner pod(s) of 3 asked for');
    expect(md).toContain('3 of them had samples in Prometheus');
    expect(md).toContain('The verdict is global');
    expect(md).toContain(`push interval (${(pushMs / 1000).toFixed(1)} s)`);
    expect(kube.list('testruns', NS)).toEqual([]);
    expect(kube.k6!.processes.size).toBe(0);
  });
});
