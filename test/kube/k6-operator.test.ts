import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal, type JournalEvent } from '../../harness/core/journal.js';
import { createK6OperatorDriver, type K6FeedFactory } from '../../harness/load/k6-operator-driver.js';
import { KubeClient, type KubeObject as ApiObject } from '../../harness/platform/kubernetes/client.js';
import { buildResult } from '../../harness/report/result.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { validateCommand } from '../../harness/cli/validate-command.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { Plan } from '../../harness/scenario/plan.js';
import { runCli } from '../helpers/cli.js';
import { startFakeKube, type FakeKube, type KubeObject } from './fake/index.js';

/**
 * k6 through the k6 operator on the Kubernetes platform, against the fake API server with its
 * simulated operator: runner pods are real processes (a short node program that records what it
 * was given and lives as long as the test says). The runners' outcomes come from a stand-in feed
 * here (the Prometheus feed has its own tests); what is tested is the run path on the cluster.
 */

const NS = 'gameday-k6';
const RUN_LABEL = 'gameday.dev/run';

let kube: FakeKube;
let dir = '';
let target: Server;
let targetUrl = '';
/** Each runner pod's creation as the store saw it. */
const runnerPods: KubeObject[] = [];

/** How long each runner process lives (ms), and its exit code, read by the runner at its start. */
let runnerMs = 1500;
let runnerExit = 0;

/** A feed that reports one outcome per poll and remembers what it was given. */
function standInFeed(record: { zeroWallMs?: number; testId?: string; polls: number }, runners: number): K6FeedFactory {
  return (sink, o) => {
    record.zeroWallMs = o.zeroWallMs;
    record.testId = o.testId;
    return {
      poll: async (until) => {
        record.polls++;
        sink.response(0, until - o.zeroWallMs, 5, 200);
      },
      totals: () => ({ runners, outcomes: record.polls, dropped: 0, unnamed: {}, pushIntervalMs: 200 }),
    };
  };
}

function scenario(extra = '', load = 'driver: k6, parallelism: 3'): string {
  return `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: k6-operator }
spec:
  duration: 3s
  warmup: 1s
  platform:
    kubernetes:
      namespace: ${NS}
      workload: { selector: { app: svc } }
      url: ${targetUrl}
      readyTimeout: 20s
  observe: { prometheus: { url: "http://127.0.0.1:9" } }
  load: { model: open, rate: 20, ${load} }
  workload:
    requests:
      - { name: get-item, weight: 1, path: /items/1 }
  checks: [{ id: P95, name: p95, metric: latency.p95, target: "< 1s" }]
${extra}`;
}

function labelled(resource: string, run?: string): KubeObject[] {
  return kube.list(resource, NS).filter((o) => (run ? o.metadata.labels?.[RUN_LABEL] === run : o.metadata.labels?.[RUN_LABEL] !== undefined));
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gd-k6-operator-'));
  target = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  // The runner: writes what it was given to <dir>/<pod>.json, then lives RUNNER_MS.
  const runner = join(dir, 'runner.mjs');
  writeFileSync(
    runner,
    `import { writeFileSync } from 'node:fs';
writeFileSync(process.env.OUT_DIR + '/' + process.env.POD + '.json', JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
setTimeout(() => process.exit(Number(process.env.EXIT_CODE || 0)), Number(process.env.RUNNER_MS));
`,
  );
  kube = await startFakeKube({
    namespaces: ['default', { name: NS, labels: { environment: 'staging' } }],
    timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 },
    k6Operator: {
      stepMs: 20,
      runner: (s) => ({ command: process.execPath, args: [runner, ...s.args], env: { OUT_DIR: dir, POD: s.pod.metadata.name, RUNNER_MS: String(runnerMs), EXIT_CODE: String(runnerExit) } }),
    },
  });
  kube.store.subscribe((e) => {
    if (e.type === 'ADDED' && e.resource.plural === 'pods' && e.object.metadata.labels?.['k6_cr']) runnerPods.push(structuredClone(e.object));
  });
  // The existing workload: one pod the platform finds by its selector.
  kube.create('pods', { metadata: { name: 'svc-0', namespace: NS, labels: { app: 'svc' } }, spec: { containers: [{ name: 'svc', image: 'svc:1' }] } });
  process.env['KUBECONFIG'] = kube.kubeconfigPath;
}, 30_000);

afterAll(async () => {
  delete process.env['KUBECONFIG'];
  await kube?.close();
  await new Promise((r) => target?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function plan(text = scenario()): Plan {
  const p = planFromText(text, { env: process.env });
  expect(p.problems).toBeUndefined();
  return p.plan!;
}

describe('a Game Day with k6 operator runners', () => {
  let events: JournalEvent[] = [];
  let outcome: Awaited<ReturnType<typeof runGameDay>>;
  const feed = { polls: 0 } as { zeroWallMs?: number; testId?: string; polls: number };
  let clock: SystemClock;
  let p: Plan;
  let run = '';

  beforeAll(async () => {
    runnerMs = 2500;
    p = plan();
    clock = new SystemClock();
    // The journal's own event objects (shifted with the zero like the journal's).
    outcome = await runGameDay(p, { outDir: join(dir, 'out'), signal: new AbortController().signal, clock, k6Feed: standInFeed(feed, 3), onEvent: (e) => events.push(e) });
  }, 30_000);

  it('applies ConfigMap and TestRun, journals every stage in order, and takes the zero at started', () => {
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.status).toBe('completed');
    const stages = events.filter((e) => e.type === 'k6.stage').map((e) => e.detail?.['stage']);
    expect(stages).toEqual(['initialization', 'initialized', 'created', 'started', 'finished']);
    run = String(events.find((e) => e.type === 'kube.context')?.detail?.['run']);
    const applied = events.filter((e) => e.type === 'k6.applied').map((e) => e.target);
    expect(applied).toEqual([`ConfigMap/k6-${run}`, `TestRun/k6-${run}`]);
    const started = events.find((e) => e.type === 'k6.stage' && e.detail?.['stage'] === 'started')!;
    const zero = events.find((e) => e.type === 'run.started')!;
    // The zero is taken as the watch reports started: not before, and not a step later (bounded loosely for a busy machine).
    expect(zero.atMs).toBeGreaterThanOrEqual(0);
    expect(zero.atMs).toBeLessThan(20);
    expect(started.atMs).toBeLessThanOrEqual(0);
    expect(started.atMs).toBeGreaterThan(-1000);
    expect(feed.zeroWallMs).toBe(clock.wallMs(0));
    expect(feed.testId).toBe(run);
    expect(feed.polls).toBeGreaterThanOrEqual(3);
  });

  it('runs N runner pods labelled with the run and the operator, each a process given the runner env and its tags', () => {
    const pods = runnerPods.filter((o) => o.metadata.labels?.[RUN_LABEL] === run);
    expect(pods.map((o) => o.metadata.name).sort()).toEqual([1, 2, 3].map((i) => `k6-${run}-${i}`));
    for (const pod of pods) expect(pod.metadata.labels).toMatchObject({ app: 'k6', k6_cr: `k6-${run}`, runner: 'true', [RUN_LABEL]: run });
    const runners = events.find((e) => e.type === 'k6.runners')!;
    expect(runners.detail).toMatchObject({ count: 3, pods: pods.map((o) => o.metadata.name).sort().join(',') });
    for (const i of [1, 2, 3]) {
      const seen = JSON.parse(readFileSync(join(dir, `k6-${run}-${i}.json`), 'utf8')) as { argv: string[]; env: Record<string, string> };
      expect(seen.env).toMatchObject({ BASE_URL: targetUrl, K6_PROMETHEUS_RW_SERVER_URL: 'http://127.0.0.1:9/api/v1/write', K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM: 'true' });
      expect(seen.argv.join(' ')).toContain(`--tag instance_id=${i} --tag job_name=k6-${run}-${i}`);
      expect(seen.argv.join(' ')).toContain(`--tag testid=${run}`);
    }
  });

  it('deletes TestRun and ConfigMap (runner pods with them) and says runners and a global verdict in the report', () => {
    const deleted = events.find((e) => e.type === 'k6.deleted')!;
    expect(deleted.detail).toMatchObject({ objects: `TestRun/k6-${run},ConfigMap/k6-${run}`, leftovers: '' });
    expect(labelled('testruns', run)).toEqual([]);
    expect(labelled('configmaps', run)).toEqual([]);
    expect(labelled('pods', run)).toEqual([]);
    expect(kube.k6!.processes.size).toBe(0);
    const totals = events.find((e) => e.type === 'k6.operator.totals')!;
    expect(totals.detail).toMatchObject({ parallelism: 3, runnerPods: 3, runnersReporting: 3, lastStage: 'finished' });
    const result = buildResult(p, outcome.analysis!, outcome.status, {}, outcome.load);
    const caveat = result.caveats.find((c) => c.includes('k6 operator'))!;
    expect(caveat).toContain('3 runner pod(s) of 3 asked for');
    expect(caveat).toContain('3 of them had samples in Prometheus');
    expect(caveat).toContain('The verdict is global');
    expect(caveat).toContain('push interval (0.2 s)');
    expect(result.caveats.some((c) => c.includes('k6.exited'))).toBe(false);
    expect(result.latency.over).toMatch(/^every request k6 sent .* all runners together, known per push interval$/);
  });
});

describe('stopping, crashing, a cluster without the operator', () => {
  it('Ctrl-C during the run deletes the TestRun (its runner processes killed) and the ConfigMap', async () => {
    runnerMs = 60_000;
    const events: JournalEvent[] = [];
    const abort = new AbortController();
    const p = plan();
    const outcome = await runGameDay(p, {
      outDir: join(dir, 'out-stop'),
      signal: abort.signal,
      k6Feed: standInFeed({ polls: 0 }, 3),
      onEvent: (e) => {
        events.push(e);
        // Once every runner process is up, as a person would press Ctrl-C mid-run.
        if (e.type === 'run.started') void waitFor('3 runner processes', () => kube.k6!.processes.size === 3).then(() => abort.abort());
      },
    });
    expect(outcome.status).toBe('interrupted');
    const run = String(events.find((e) => e.type === 'kube.context')?.detail?.['run']);
    expect(events.filter((e) => e.type === 'k6.stage').map((e) => e.detail?.['stage'])).toEqual(['initialization', 'initialized', 'created', 'started']);
    expect(events.find((e) => e.type === 'k6.deleted')?.detail).toMatchObject({ objects: `TestRun/k6-${run},ConfigMap/k6-${run}`, leftovers: '' });
    expect([...labelled('testruns', run), ...labelled('configmaps', run), ...labelled('pods', run)]).toEqual([]);
    await waitFor('runner processes to exit', () => kube.k6!.processes.size === 0, 5_000);
  }, 30_000);

  it('a runner that fails ends the TestRun in stage error: the run fails (exit 3) naming it, and nothing is left', async () => {
    runnerMs = 800;
    runnerExit = 1;
    const events: JournalEvent[] = [];
    try {
      const outcome = await runGameDay(plan(), { outDir: join(dir, 'out-fail'), signal: new AbortController().signal, k6Feed: standInFeed({ polls: 0 }, 3), onEvent: (e) => events.push(e) });
      const run = String(events.find((e) => e.type === 'kube.context')?.detail?.['run']);
      expect(outcome.status).toBe('error');
      expect(outcome.error?.message).toContain(`TestRun k6-${run} ended in stage error (a runner failed): pod k6-${run}-1: container k6 terminated (Error code 1)`);
      expect(events.filter((e) => e.type === 'k6.stage').map((e) => e.detail?.['stage'])).toEqual(['initialization', 'initialized', 'created', 'started', 'error']);
      expect([...labelled('testruns', run), ...labelled('configmaps', run), ...labelled('pods', run)]).toEqual([]);
    } finally {
      runnerExit = 0;
    }
  }, 30_000);

  it('runners that cannot be scheduled: the run fails at readyTimeout naming why, and nothing is left', async () => {
    const undo = kube.setPodBehaviour((pod) => pod.metadata.labels?.['k6_cr'] !== undefined, { unschedulable: true });
    const events: JournalEvent[] = [];
    try {
      const outcome = await runGameDay(plan(scenario().replace('readyTimeout: 20s', 'readyTimeout: 1500ms')), { outDir: join(dir, 'out-unsched'), signal: new AbortController().signal, k6Feed: standInFeed({ polls: 0 }, 3), onEvent: (e) => events.push(e) });
      const run = String(events.find((e) => e.type === 'kube.context')?.detail?.['run']);
      expect(outcome.status).toBe('error');
      expect(outcome.error?.message).toContain(`TestRun k6-${run} did not start within 2s (stage created; is the k6 operator running?): pod k6-${run}-1 is Unschedulable: 0/3 nodes are available`);
      expect(events.some((e) => e.type === 'run.started')).toBe(false);
      expect([...labelled('testruns', run), ...labelled('configmaps', run), ...labelled('pods', run)]).toEqual([]);
    } finally {
      undo();
    }
  }, 30_000);

  it('leftovers of a harness that died are found by gameday cleanup --run (TestRun, ConfigMap, runner pods)', async () => {
    runnerMs = 60_000;
    // A harness that applied its runners and died: nothing deleted them.
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const p = plan();
    const site = { client: new KubeClient(kube.kubeConfig, NS), kube: p.platform as Extract<Plan['platform'], { kind: 'kubernetes' }>, runId: 'crashed1', applied: () => undefined };
    const driver = createK6OperatorDriver(p.load, p.load.k6!, clock, { site, prometheus: { url: 'http://127.0.0.1:9' }, journal });
    await driver.prepare(new AbortController().signal);
    await waitFor('3 runner processes', () => kube.k6!.processes.size === 3);
    expect(labelled('testruns', 'crashed1')).toHaveLength(1);
    expect(labelled('pods', 'crashed1')).toHaveLength(3);
    const r = await runCli(['cleanup', '--run', 'crashed1', '--namespace', NS, '--timeout', '20'], { KUBECONFIG: kube.kubeconfigPath });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TestRun/k6-crashed1');
    expect(r.stdout).toContain('ConfigMap/k6-crashed1');
    expect([...labelled('testruns', 'crashed1'), ...labelled('configmaps', 'crashed1'), ...labelled('pods', 'crashed1')]).toEqual([]);
    await waitFor('runner processes to exit', () => kube.k6!.processes.size === 0, 5_000);
    await driver.release(); // already gone: nothing to do, nothing thrown
  }, 30_000);

  it('a cluster without the k6 operator: exit 3 naming the CRD, nothing left behind', async () => {
    const bare = await startFakeKube({ namespaces: ['default', { name: NS, labels: { environment: 'staging' } }], timing: { scheduleMs: 5, createMs: 10, readyMs: 10, terminateMs: 10 } });
    try {
      bare.create('pods', { metadata: { name: 'svc-0', namespace: NS, labels: { app: 'svc' } }, spec: { containers: [{ name: 'svc', image: 'svc:1' }] } });
      const file = join(dir, 'bare.yaml');
      writeFileSync(file, scenario());
      const r = await runCli(['run', file, '--out', join(dir, 'out-bare'), '--quiet'], { KUBECONFIG: bare.kubeconfigPath });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('the API server does not serve TestRun (testruns.k6.io/v1alpha1): is the k6 operator installed? (kubectl get crd testruns.k6.io)');
      expect(bare.list('configmaps', NS)).toEqual([]);
      expect(bare.writes().filter((w) => w.info?.verb === 'create')).toEqual([]);
    } finally {
      await bare.close();
    }
  }, 30_000);

  it('bad input is exit 2 with path, expected and found, before anything is contacted', async () => {
    const cases: [string, string[], string][] = [
      [scenario('', 'driver: gameday, parallelism: 3'), [], 'spec.load.parallelism: expected runners of the k6 operator only with spec.load.driver: k6, found spec.load.driver gameday (parallelism 3)'],
      [scenario('', 'driver: k6'), ['--parallelism', '2', '--platform', 'local'], '--parallelism: expected the kubernetes platform for k6 operator runners'],
      [scenario().replace('  observe: { prometheus: { url: "http://127.0.0.1:9" } }\n', ''), [], 'spec.observe.prometheus.url: expected the cluster\'s Prometheus with its remote-write receiver and native histograms (or --prometheus <url>): the 3 runners write to it and the run is judged from it, found nothing'],
      [scenario('', 'driver: k6, parallelism: 0'), [], 'spec.load.parallelism'],
      [scenario('', `driver: k6, parallelism: 3, script: ${join(dir, 'big.js')}`), [], 'spec.load.script: expected a k6 script of at most 1 MiB for the runners\' ConfigMap (inline pool values: use discover instead), found 1100000 bytes'],
    ];
    writeFileSync(join(dir, 'big.js'), `// ${'x'.repeat(1_100_000 - 4)}\n`);
    for (const [i, [text, flags, message]] of cases.entries()) {
      const file = join(dir, `bad-${i}.yaml`);
      writeFileSync(file, text);
      const errors: string[] = [];
      const code = await validateCommand([file], { info: () => undefined, error: (l) => errors.push(l) }, [], flags.includes('local') ? { platform: 'local' } : undefined, flags.includes('--parallelism') ? { parallelism: 2 } : {});
      expect(code, errors.join('\n')).toBe(2);
      expect(errors.join('\n')).toContain(message);
    }
    // The Prometheus can come from the command line instead (validate takes --prometheus as run does).
    const fixed = await runCli(['validate', join(dir, 'bad-2.yaml'), '--prometheus', 'http://127.0.0.1:9'], { KUBECONFIG: join(dir, 'no-such-kubeconfig') });
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    // `run` refuses the same through the CLI (the flag too) before contacting the cluster.
    const before = kube.requests.length;
    const r = await runCli(['run', join(dir, 'bad-1.yaml'), '--parallelism', '2', '--platform', 'local', '--out', join(dir, 'out-bad')], { KUBECONFIG: kube.kubeconfigPath });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--parallelism: expected the kubernetes platform for k6 operator runners');
    expect(kube.requests.length).toBe(before);
  }, 30_000);
});

describe('gameday render', () => {
  it('prints the ConfigMap and TestRun a run applies, which the API server (strict TestRun schema) accepts', async () => {
    const file = join(dir, 'render.yaml');
    writeFileSync(file, scenario());
    const r = await runCli(['render', file, '--run-id', 'render1'], { KUBECONFIG: kube.kubeconfigPath });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# k6 operator: 3 runner pod(s) once the workload is ready');
    expect(r.stdout).toMatch(/kind: TestRun\nmetadata:\n {2}name: k6-render1\n/);
    expect(r.stdout).toContain('parallelism: 3');
    const dry = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: r.stdout });
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain('configmap/k6-render1 created (server dry run)');
    expect(dry.stdout).toContain('testrun.k6.io/k6-render1 created (server dry run)');
    expect(labelled('testruns', 'render1')).toEqual([]);
  }, 30_000);
});

describe('the fake k6 operator', () => {
  const client = (): KubeClient => new KubeClient(kube.kubeConfig, NS);
  const testRun = (name: string, spec: Record<string, unknown>): ApiObject => ({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name, namespace: NS }, spec });

  it('validates TestRun strictly: unknown fields refused, parallelism and script required', async () => {
    await expect(client().create(testRun('bad-field', { parallelism: 1, script: { configMap: { name: 'x' } }, runners: 2 }))).rejects.toThrow('unknown field "spec.runners"');
    await expect(client().create(testRun('no-script', { parallelism: 1 }))).rejects.toThrow('spec.script: Required value');
    await expect(client().create(testRun('bad-type', { parallelism: '2', script: { configMap: { name: 'x' } } }))).rejects.toThrow('spec.parallelism');
  });

  it('a TestRun whose ConfigMap is missing ends in stage error; a failing runner ends its TestRun in error', async () => {
    await client().create(testRun('no-cm', { parallelism: 1, script: { configMap: { name: 'absent', file: 'a.js' } } }));
    await waitFor('stage error', () => (kube.get('testruns', NS, 'no-cm')?.status as { stage?: string } | undefined)?.stage === 'error');
    expect(kube.k6!.stages.filter((s) => s.startsWith(`${NS}/no-cm:`))).toEqual([`${NS}/no-cm: initialization`, `${NS}/no-cm: error`]);
    expect(kube.list('pods', NS).filter((p) => p.metadata.labels?.['k6_cr'] === 'no-cm')).toEqual([]);
    await client().delete({ kind: 'TestRun', group: 'k6.io', version: 'v1alpha1', plural: 'testruns' }, 'no-cm');

    runnerMs = 100;
    runnerExit = 1;
    await client().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fails', namespace: NS }, data: { 'a.js': 'export default function () {}' } });
    await client().create(testRun('fails', { parallelism: 2, script: { configMap: { name: 'fails', file: 'a.js' } }, runner: { env: [{ name: 'SOME', value: 'x' }] } }));
    await waitFor('stage error', () => (kube.get('testruns', NS, 'fails')?.status as { stage?: string } | undefined)?.stage === 'error').finally(() => (runnerExit = 0));
    expect(kube.k6!.stages.filter((s) => s.startsWith(`${NS}/fails:`)).map((s) => s.split(': ')[1])).toEqual(['initialization', 'initialized', 'created', 'started', 'error']);
    await client().delete({ kind: 'TestRun', group: 'k6.io', version: 'v1alpha1', plural: 'testruns' }, 'fails');
    await client().delete({ kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps' }, 'fails');
    await waitFor('its runner pods gone', () => kube.list('pods', NS).every((p) => p.metadata.labels?.['k6_cr'] !== 'fails'));
  }, 20_000);
});
