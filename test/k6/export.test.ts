import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { parseAllDocuments } from 'yaml';
import { formatProblem } from '../../harness/core/errors.js';
import { exportK6Script } from '../../harness/k6/export.js';
import { k6TestRun } from '../../harness/k6/testrun.js';
import { exportCommand } from '../../harness/cli/export-command.js';
import { K6SampleFeed } from '../../harness/k6/samples.js';
import { planFromFile, planFromText } from '../../harness/scenario/index.js';
import type { Plan } from '../../harness/scenario/plan.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const SAMPLES = join(ROOT, '../shared/k6-samples');
const FAKE_K6 = join(here, 'fake-k6.mjs');

const head = 'apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nmetadata: { name: shop }\n';
/** The recorded fixture's workload (get-item 80 %, create-item 20 %, 200/s) as a scenario. */
const SHOP = `${head}spec:
  duration: 20s
  warmup: 2s
  workload:
    pools:
      ids: { values: ["1", "2", "3"] }
    requests:
      - { name: get-item, weight: 80, path: "/items/{{pick ids}}", expect: { status: [200] } }
      - name: create-item
        weight: 20
        method: POST
        path: /items
        headers: { content-type: application/json, x-run: "{{env RUN_ID}}-{{seq}}" }
        body: '{"n": {{int 1 9}}, "price": {{float 1 5 1}}, "id": {{json (uuid)}}, "c": {{json (oneOf "a" b)}}, "at": "{{now}}"}'
        expect: { status: [201] }
        capture: { ids: /id }
  load: { model: open, rate: 200, connections: 20, maxInFlight: 50 }
  faults: [{ name: kill-one, kind: pod-kill, at: 5s, duration: 2s, mode: one }]
  recovery: { window: 5s, sustain: 2s }
  checks:
    - { id: K-1, name: p95 of reads, metric: latency.p95, request: get-item, during: [baseline, fault, recovery, after], target: "< 500ms" }
    - { id: K-2, name: rate, metric: throughput.rps, during: [baseline, fault, recovery, after], target: ">= 150" }
    - { id: K-3, name: no drops, metric: requests.dropped, during: [baseline, fault, recovery, after], target: "== 0" }
    - { id: K-4, name: client RTO, metric: rto.client, target: "< 10s" }
    - { id: K-5, name: p95 in the fault, metric: latency.p95, during: [fault, recovery], target: "< 500ms" }
    - { id: K-6, name: no 5xx, metric: requests.status5xx, target: "== 0" }
`;
const RAMP = `${head}spec:
  duration: 30s
  warmup: 1s
  load: { model: ramping, startRate: 0.5, stages: [{ to: 300, over: 10s }, { to: 0, over: 3s }], maxInFlight: 15 }
`;

function plan(text: string): Plan {
  const r = planFromText(text, { file: 'x.yaml', env: { RUN_ID: 'r7' } });
  if (r.problems) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.plan;
}

const tempDir = lazyTempDir('gameday-k6-export-test-');

/** tsc over the files with a tiny tsconfig: JavaScript checked against @types/k6 (strict), nothing emitted. */
function typeCheck(files: string[]): { status: number | null; out: string } {
  writeFileSync(
    join(tempDir(), 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { allowJs: true, checkJs: true, noEmit: true, strict: true, target: 'es2020', module: 'es2020', moduleResolution: 'node', lib: ['es2020'], types: ['k6'], typeRoots: [join(ROOT, 'node_modules/@types')], skipLibCheck: true },
      files,
    }),
  );
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(tempDir(), 'tsconfig.json')], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('gameday export k6', () => {
  const scripts: Record<string, string> = {};
  let checked: { status: number | null; out: string };
  beforeAll(async () => {
    scripts['shop'] = exportK6Script(plan(SHOP)).script;
    scripts['ramp'] = exportK6Script(plan(RAMP)).script;
    const podKill = await planFromFile(join(ROOT, 'scenarios/pod-kill.yaml'), {}, { secretsRequired: false });
    if (podKill.problems) throw new Error(podKill.problems.map(formatProblem).join('\n'));
    scripts['pod-kill'] = exportK6Script(podKill.plan).script;
    const kv = await planFromFile(join(ROOT, 'scenarios/kv-api.yaml'), {}, { secretsRequired: false });
    if (kv.problems) throw new Error(kv.problems.map(formatProblem).join('\n'));
    scripts['kv-api'] = exportK6Script(kv.plan).script;
    for (const [name, text] of Object.entries(scripts)) writeFileSync(join(tempDir(), `${name}.js`), text);
    // A control: a script misusing k6's API must fail the same check.
    writeFileSync(join(tempDir(), 'bad.js'), "import http from 'k6/http';\nexport default function () { http.get(42, { tags: 'x' }); }\n");
    // One tsc run (about 3 s) over every script and the control.
    checked = typeCheck([...Object.keys(scripts).map((n) => `${n}.js`), 'bad.js']);
  }, 90_000);

  it('every exported script type-checks against @types/k6; a misuse does not', () => {
    const errors = checked.out.split('\n').filter((l) => l.trim() !== '');
    expect(checked.status).not.toBe(0);
    expect(errors.length).toBeGreaterThan(0);
    // Every error is the control's: the exported scripts have none.
    expect(errors.filter((l) => !/bad\.js\(2,\d+\): error TS\d+/.test(l))).toEqual([]);
    expect(errors.some((l) => /bad\.js\(2,\d+\): error TS2345/.test(l))).toBe(true);
  });

  it('maps the open model to constant-arrival-rate and the checks k6 can express to thresholds', () => {
    const s = scripts['shop']!;
    expect(s).toContain("workload: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '20000ms', preAllocatedVUs: 20, maxVUs: 50, gracefulStop: '5000ms' }");
    expect(s).toContain('"http_req_duration{name:get-item}": ["p(95)<500"]');
    expect(s).toContain('"http_reqs": ["rate>=150"]');
    expect(s).toContain('"dropped_iterations": ["count==0"]');
    expect(s).toMatch(/K-4 client RTO \(rto\.client < 10s\): a recovery time: k6 has no fault instant/);
    expect(s).toMatch(/K-5 p95 in the fault \(latency\.p95 < 500ms\): during fault, recovery: k6 thresholds cover the whole run/);
    expect(s).toMatch(/K-6 no 5xx .*gameday judges it/);
    expect(s).toContain("tags: { name: r.name }");
  });

  it('maps the ramping model to ramping-arrival-rate with an exact integer rate', () => {
    // 0.5/s is not an integer per second: per minute it is (30/min), and so are the stages.
    expect(scripts['ramp']).toContain("workload: { executor: 'ramping-arrival-rate', startRate: 30, timeUnit: '1m', stages: [{ target: 18000, duration: '10000ms' }, { target: 0, duration: '3000ms' }], preAllocatedVUs: 15, maxVUs: 15, gracefulStop: '5000ms' }");
  });

  it('turns the templates into JavaScript that renders what gameday would', async () => {
    // Run the exported request builders in Node with k6's modules stubbed: the templates' output.
    const body = scripts['shop']!.replace("import http from 'k6/http';", 'const http = {};').replace('export default function (data)', 'function iteration(data)').replace(/export (const|function)/g, '$1');
    const run = new Function('__ENV', `${body}\nreturn { REQUESTS, pools, POOLS, pick };`) as (env: Record<string, string>) => { REQUESTS: Array<{ path(): string; headers(): Record<string, string>; body(): string | null }>; pools: Record<string, string[]>; POOLS: Record<string, { values: string[] }> };
    const m = run({ BASE_URL: 'http://127.0.0.1:1', RUN_ID: 'r7' });
    m.pools['ids'] = [...m.POOLS['ids']!.values];
    expect(m.REQUESTS[0]!.path()).toMatch(/^\/items\/[123]$/);
    expect(m.REQUESTS[1]!.headers()).toEqual({ 'content-type': 'application/json', 'x-run': 'r7-1' });
    expect(m.REQUESTS[1]!.headers()['x-run']).toBe('r7-2');
    const doc = JSON.parse(m.REQUESTS[1]!.body()!);
    expect(doc.n).toBeGreaterThanOrEqual(1);
    expect(doc.n).toBeLessThanOrEqual(9);
    expect(String(doc.price)).toMatch(/^[1-4](\.\d)?$/); // 2.0 is written as 2
    expect(doc.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(['a', 'b']).toContain(doc.c);
    expect(Number.isNaN(Date.parse(doc.at))).toBe(false);
  });

  it('the recorded k6 output parses onto the exported requests by name', () => {
    const p = plan(SHOP);
    const byOp = [0, 0];
    const feed = new K6SampleFeed(
      { response: (op) => byOp[op]!++, transportError: () => {}, dropped: () => {} },
      new Map(p.load.workload.requests.map((r, i) => [r.name, i])),
      0,
    );
    feed.push(readFileSync(join(SAMPLES, 'constant.out.json'), 'utf8'));
    feed.end();
    expect(byOp).toEqual([3201, 800]);
    expect(feed.counts.unnamed).toEqual({});
  });

  it('discovered pools are read in setup(); faker is said to be a stand-in', () => {
    const s = scripts['kv-api']!;
    expect(s).toContain('"keys": { capacity: 20000, values: [], discover: { path: "/v1/items?limit=100", items: "/items/*/key", next: "/next", cursorParam: "after", max: 1000, headers: {"authorization": "Bearer gameday-kv-token"} } },');
    expect(s).toContain('// {{faker …}} in put-item: k6 has no faker');
    expect(s).toContain('// Writes (put-item) are not read back after a k6 run');
    expect(s).toContain('responseCallback: http.expectedStatuses(...r.expect)');
  });

  it('the CLI: stdout or -o get the script; a bad format or scenario exits 2 with nothing written', async () => {
    // Once through the real CLI (the command's registration), the rest in process.
    const kv = spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'harness/cli/main.ts'), 'export', 'k6', 'scenarios/kv-api.yaml'], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
    expect(kv.stderr).toBe('');
    expect(kv.status).toBe(0);
    expect(kv.stdout).toBe(scripts['kv-api']);
    const errors: string[] = [];
    const written: string[] = [];
    const io = { info: () => {}, error: (l: string) => errors.push(l) };
    const opts = { write: (t: string) => written.push(t) };
    expect(await exportCommand('k6', join(tempDir(), 'none.yaml'), opts, io)).toBe(2);
    expect(errors.join('\n')).toContain(join(tempDir(), 'none.yaml'));
    expect(await exportCommand('jmeter', join(ROOT, 'scenarios/pod-kill.yaml'), opts, io)).toBe(2);
    expect(errors.at(-1)).toBe('export: expected a format: k6, found "jmeter"');
    expect(written).toEqual([]);
    const out = join(tempDir(), 'pod-kill.out.js');
    expect(await exportCommand('k6', join(ROOT, 'scenarios/pod-kill.yaml'), { ...opts, outFile: out }, io)).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(scripts['pod-kill']);
  }, 60_000);
});

describe('gameday export k6 --parallelism: a k6 operator TestRun', () => {
  it('the exported script in a ConfigMap, N runners remote-writing to the cluster Prometheus, the global queries', async () => {
    const written: string[] = [];
    const errors: string[] = [];
    const io = { info: () => {}, error: (l: string) => errors.push(l) };
    const file = join(ROOT, 'scenarios/pod-kill.yaml');
    const opts = { kubernetes: { platform: 'kubernetes' as const }, parallelism: 4, prometheusUrl: 'http://prometheus.monitoring.svc:9090/', runId: 'abc123', write: (t: string) => written.push(t) };
    expect(await exportCommand('k6', file, opts, io)).toBe(0);
    expect(errors).toEqual([]);
    const docs = parseAllDocuments(written.join('')).map((d) => d.toJS());
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}/${d.metadata.name}`)).toEqual(['v1/ConfigMap/k6-abc123', 'k6.io/v1alpha1/TestRun/k6-abc123']);
    const [cm, tr] = docs;
    const podKill = await planFromFile(file, {}, { secretsRequired: false, kubernetes: { platform: 'kubernetes' } });
    expect(cm.data['script.js']).toBe(exportK6Script(podKill.plan!).script);
    expect(cm.metadata).toMatchObject({ namespace: 'staging', labels: { 'gameday.dev/run': 'abc123', 'app.kubernetes.io/managed-by': 'gameday' } });
    expect(tr.spec).toMatchObject({ parallelism: 4, script: { configMap: { name: 'k6-abc123', file: 'script.js' } }, arguments: '--out experimental-prometheus-rw --tag testid=abc123' });
    expect(tr.spec.runner.env).toEqual([
      { name: 'BASE_URL', value: 'http://task-api.staging.svc.cluster.local:8000' },
      { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: 'http://prometheus.monitoring.svc:9090/api/v1/write' },
      { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: 'true' },
      { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: '1s' },
      { name: 'K6_NO_USAGE_REPORT', value: 'true' },
    ]);
    const text = written.join('');
    expect(text).toContain('4 runner(s)');
    expect(text).toContain('the verdict is global');
    expect(text).toContain('histogram_quantile(0.95, sum(increase(k6_http_req_duration_seconds{testid="abc123",group!~"::setup.*|::teardown.*"}[$__window])))');
  });

  it('the runners write where the cluster reaches Prometheus (spec.observe.prometheus.remoteWriteUrl), gameday reads its own URL', async () => {
    const scenario = (observe: string) =>
      planFromText(`${head}spec:\n  duration: 30s\n  platform: { kubernetes: { namespace: staging } }\n  observe: ${observe}\n  load: { model: open, rate: 10, driver: k6, parallelism: 2 }\n`, { env: {} });
    const ok = scenario('{ prometheus: { url: "http://127.0.0.1:9090", remoteWriteUrl: "http://prometheus-operated.monitoring.svc:9090/api/v1/write" } }');
    if (ok.problems) throw new Error(ok.problems.map(formatProblem).join('\n'));
    const p = ok.plan.prometheus!;
    expect(p).toMatchObject({ url: 'http://127.0.0.1:9090', remoteWriteUrl: 'http://prometheus-operated.monitoring.svc:9090/api/v1/write' });
    if (ok.plan.platform.kind !== 'kubernetes') throw new Error('expected the kubernetes platform');
    const r = k6TestRun(ok.plan, ok.plan.platform, { runId: 'w1', parallelism: 2, prometheusUrl: p.url, remoteWriteUrl: p.remoteWriteUrl!, script: '' });
    expect(r.writeUrl).toBe('http://prometheus-operated.monitoring.svc:9090/api/v1/write');
    expect((r.objects[1]!.spec as { runner: { env: Array<{ name: string; value: string }> } }).runner.env).toContainEqual({ name: 'K6_PROMETHEUS_RW_SERVER_URL', value: r.writeUrl });
    const bad = scenario('{ prometheus: { url: "http://127.0.0.1:9090", remoteWriteUrl: "ftp://u:p@prom/write" } }');
    expect(bad.problems?.map(formatProblem)).toEqual(['spec.observe.prometheus.remoteWriteUrl: expected an http:// or https:// URL, found ftp:']);
  });

  it('a scenario that runs on the operator itself (spec.load.parallelism) exports with --prometheus standing for its Prometheus', async () => {
    const file = join(tempDir(), 'operator.yaml');
    writeFileSync(file, `${head}spec:\n  duration: 30s\n  platform: { kubernetes: { namespace: staging } }\n  load: { model: open, rate: 10, driver: k6, parallelism: 4 }\n`);
    const written: string[] = [];
    const errors: string[] = [];
    const io = { info: () => {}, error: (l: string) => errors.push(l) };
    const code = await exportCommand('k6', file, { parallelism: 2, prometheusUrl: 'http://prometheus.monitoring.svc:9090', runId: 'op1', write: (t: string) => written.push(t) }, io);
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const tr = parseAllDocuments(written.join('')).map((d) => d.toJS())[1];
    expect(tr.spec.parallelism).toBe(2);
    expect(tr.spec.runner.env).toContainEqual({ name: 'K6_PROMETHEUS_RW_SERVER_URL', value: 'http://prometheus.monitoring.svc:9090/api/v1/write' });
  });

  it('refuses a local platform and a missing Prometheus (exit 2)', async () => {
    const errors: string[] = [];
    const io = { info: () => {}, error: (l: string) => errors.push(l) };
    const file = join(ROOT, 'scenarios/pod-kill.yaml');
    const write = () => {
      throw new Error('nothing may be written');
    };
    expect(await exportCommand('k6', file, { parallelism: 2, prometheusUrl: 'http://p:9090', write }, io)).toBe(2);
    expect(errors.at(-1)).toContain('runs on the local platform: a k6 operator TestRun needs the kubernetes platform');
    expect(await exportCommand('k6', file, { parallelism: 2, kubernetes: { platform: 'kubernetes' }, write }, io)).toBe(2);
    expect(errors.at(-1)).toContain("spec.observe.prometheus.url: expected the cluster's Prometheus for the runners' remote write (or --prometheus <url>), found nothing");
  });
});

describe('spec.load.driver: k6', () => {
  const k6Scenario = (load: string, env: Record<string, string>) => planFromText(`${head}spec:\n  duration: 10s\n  load: ${load}\n`, { file: join(tempDir(), 'x.yaml'), env });

  it('needs a k6 executable and an existing script; nothing else', () => {
    const noK6 = k6Scenario('{ driver: k6, script: ./load.js }', { PATH: tempDir() });
    expect(noK6.problems?.map(formatProblem)).toEqual([
      `${join(tempDir(), 'x.yaml')}: spec.load.driver: expected a k6 executable (set K6_BIN or put k6 on PATH; https://grafana.com/docs/k6/latest/set-up/install-k6/), found none`,
      `${join(tempDir(), 'x.yaml')}: spec.load.script: expected a k6 script file (relative to the scenario file), found "./load.js" (no such file: ${join(tempDir(), 'load.js')})`,
    ]);
    writeFileSync(join(tempDir(), 'load.js'), '');
    const ok = k6Scenario('{ driver: k6, script: ./load.js }', { K6_BIN: FAKE_K6 });
    expect(ok.plan?.load.k6).toEqual({ bin: FAKE_K6, script: join(tempDir(), 'load.js'), name: 'shop', durationMs: 10_000 });
    expect(k6Scenario('{ script: ./load.js }', {}).problems?.map(formatProblem)).toEqual([`${join(tempDir(), 'x.yaml')}: spec.load.script: expected no script unless spec.load.driver is k6, found "./load.js"`]);
    // Validation (no secrets required) does not ask for the binary.
    expect(planFromText(`${head}spec:\n  duration: 10s\n  load: { driver: k6 }\n`, { env: {}, secretsRequired: false }).plan?.load.k6).toEqual({ bin: 'k6', name: 'shop', durationMs: 10_000 });
  });
});
