import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { freePort } from '../../harness/platform/local/free-port.js';
import { findPrometheus } from '../../harness/platform/local/prometheus.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { evaluatePromql, prometheusAccess, prometheusPreflight } from '../../harness/run/server-side.js';
import { PrometheusQuery } from '../../harness/observe/prometheus-query.js';
import type { Plan } from '../../harness/scenario/plan.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/leftovers.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

/**
 * A real Prometheus serving https with a certificate of a throwaway CA (its --web.config.file),
 * scraping a Task-API-shaped service: read with spec.observe.prometheus.tls.ca, refused without it;
 * and `$__selector` in promql checks, with and without spec.observe.prometheus.selector.
 */
const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';

async function startService(): Promise<{ server: Server; url: string; port: number }> {
  const registry = new Registry();
  const requests = new Counter({ name: 'task_api_requests_total', help: 'requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const durations = new Histogram({ name: 'task_api_request_duration_seconds', help: 'durations', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.05, 0.25, 1], registers: [registry] });
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/metrics') {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      return;
    }
    // The default workload fills its id pool from the list first.
    const body = req.url?.startsWith('/tasks?') ? '{"items":[{"id":1},{"id":2}],"next_cursor":null}' : '{"id":1,"title":"t"}';
    res.writeHead(200, { 'content-type': 'application/json' }).end(body, () => {
      requests.inc({ method: req.method ?? 'GET', route: '/tasks/:id', status: '200' });
      durations.observe({ method: req.method ?? 'GET', route: '/tasks/:id' }, 0.002);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/** The body of a GET over https trusting `ca` (and presenting a client certificate), or undefined while it does not answer 200. Bounded by 1 s. */
function httpsText(url: string, ca: string, client: { cert?: string; key?: string } = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { ca, ...client, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

const scenario = (target: string, prometheus: string): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: prom-tls }
spec:
  duration: 3s
  warmup: 1s
  target: { url: "${target}" }
  observe:
    prometheus: ${prometheus}
  load: { model: open, rate: 20, connections: 4, timeout: 2s, mix: { get: 100 } }
  checks:
    - { id: SERVED, name: servers counted requests, metric: promql, during: [baseline], target: "> 5",
        query: 'sum(increase(task_api_requests_total$__selector[$__window]))' }
`;

/** A real Prometheus on a free loopback port serving https as `webYml` says (in its own process group), ready. */
async function startHttpsPrometheus(dir: string, webYml: string, ca: string, client: { cert?: string; key?: string } = {}): Promise<{ proc: ChildProcess; url: string; stderr: string[] }> {
  writeFileSync(join(dir, 'web.yml'), webYml);
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const stderr: string[] = [];
  const proc = spawn((binary as { path: string }).path, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--web.config.file=${join(dir, 'web.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.on('data', (c: Buffer) => void (stderr.length < 50 && stderr.push(c.toString())));
  const deadline = Date.now() + 15_000;
  while ((await httpsText(`${url}/-/ready`, ca, client)) === undefined) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      if (proc.exitCode === null && proc.pid) process.kill(-proc.pid, 'SIGKILL');
      throw new Error(`Prometheus did not start: ${stderr.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, stderr };
}

/** Stops a Prometheus of startHttpsPrometheus: SIGTERM to its group, SIGKILL after 5 s; none left. */
async function stopPrometheus(proc: ChildProcess | undefined): Promise<void> {
  if (!proc?.pid || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(-proc.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (isAlive(proc.pid)) process.kill(-proc.pid, 'SIGKILL');
  expect(isAlive(proc.pid)).toBe(false);
}

describe.skipIf(!!why)(`an existing Prometheus over https with a private CA${why ? ` — skipped: ${why}` : ''}`, () => {
  let dir = '';
  let pki: TestPki;
  let service: Awaited<ReturnType<typeof startService>>;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let stderr: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gd-prom-tls-'));
    pki = makeTestPki();
    copyFileSync(pki.caCert, join(dir, 'ca.pem'));
    copyFileSync(pki.otherCaCert, join(dir, 'other-ca.pem'));
    service = await startService();
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: svc',
      `    static_configs: [{ targets: ["127.0.0.1:${service.port}"], labels: { replica: svc-0 } }]`,
      '',
    ].join('\n'));
    const ca = pki.read(pki.caCert);
    // Ready, then the service scraped at least twice (the run reads the scrape interval from `up`).
    ({ proc: prom, url: promUrl, stderr } = await startHttpsPrometheus(dir, `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`, ca));
    const deadline = Date.now() + 25_000;
    // Prometheus hands static targets to its scrapers on a 5 s tick: wait for two samples of the
    // service's `up`, not a fixed time.
    const scraped = async (): Promise<boolean> => {
      const body = await httpsText(`${promUrl}/api/v1/query?query=${encodeURIComponent('count_over_time(up{job="svc"}[1m])')}`, ca);
      const value = body ? (JSON.parse(body) as { data?: { result?: Array<{ value: [number, string] }> } }).data?.result?.[0]?.value[1] : undefined;
      return Number(value) >= 2;
    };
    while (!(await scraped())) {
      if (Date.now() > deadline || prom.exitCode !== null) throw new Error(`Prometheus did not scrape the service: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 45_000);

  afterAll(async () => {
    await stopPrometheus(prom);
    await new Promise((r) => service?.server.close(r));
    pki?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(existsSync(dir)).toBe(false);
  });

  it('with tls.ca: the servers\' view is read over https, and a $__selector check evaluates with the selector', { timeout: 40_000 }, async () => {
    const file = join(dir, 'with-ca.yaml');
    writeFileSync(file, scenario(service.url, `{ url: "${promUrl}", selector: '{job="svc", replica="svc-0"}', tls: { ca: ./ca.pem } }`));
    const out = join(dir, 'with-ca');
    const res = await runCli(['run', file, '--out', out]);
    if (!existsSync(join(out, 'result.json'))) throw new Error(`no result (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
    const server = r.server;
    if (!server || 'skipped' in server) throw new Error(`no server view: ${JSON.stringify(server)}\n${res.stderr}`);
    expect(server.url).toBe(promUrl);
    expect(server.scrapeIntervalS).toBe(1);
    const whole = server.phases.find((p) => p.phase === 'run')!;
    expect(whole.server.requests).toBeGreaterThan(10);
    const served = r.checks.find((c) => c.id === 'SERVED')!;
    expect(served).toMatchObject({ passed: true });
    expect(served.actual).toBeGreaterThan(5);
    expect(served.detail).toContain('sum(increase(task_api_requests_total{job="svc", replica="svc-0"}[');
    expect(res.code).toBe(0);
  });

  it('without tls.ca the run names the certificate error: said at the start, the cross-check skipped with it, the promql check without data', { timeout: 30_000 }, async () => {
    const file = join(dir, 'no-ca.yaml');
    writeFileSync(file, scenario(service.url, `{ url: "${promUrl}", selector: '{job="svc"}' }`).replace('duration: 3s', 'duration: 2s'));
    const out = join(dir, 'no-ca');
    const res = await runCli(['run', file, '--out', out]);
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
    const reason = (r.server as { skipped: string }).skipped;
    expect(reason).toMatch(new RegExp(`^Prometheus at ${promUrl.replaceAll('.', '\\.')} presented a certificate that is not trusted: .*\\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); a private CA goes in spec\\.observe\\.prometheus\\.tls\\.ca$`));
    expect(res.stdout + res.stderr).toContain(`server-side cross-check: ${reason}; the run goes on and asks again after the load`);
    expect(r.checks.find((c) => c.id === 'SERVED')).toMatchObject({ actual: null, passed: false });
    expect(res.code).toBe(1);
  });

  it('with another CA or another name the certificate error is named; the plan refuses a bad CA file', { timeout: 10_000 }, async () => {
    const file = join(dir, 'checks.yaml');
    const plan = (prometheus: string, env = {}): ReturnType<typeof planFromText> => planFromText(scenario(service.url, prometheus), { file, env });
    const untrusted = `Prometheus at ${promUrl} presented a certificate that is not trusted: `;
    expect(await prometheusPreflight(plan(`{ url: "${promUrl}", tls: { ca: ./other-ca.pem } }`).plan!)).toContain(untrusted);
    // The right CA but another name: checked against serverName, not the URL's host.
    expect(await prometheusPreflight(plan(`{ url: "${promUrl}", tls: { ca: ./ca.pem, serverName: wrong.staging.test } }`).plan!)).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(await prometheusPreflight(plan(`{ url: "${promUrl}", tls: { ca: ./ca.pem, serverName: ${pki.serverName} } }`).plan!)).toBeUndefined();

    writeFileSync(join(dir, 'not-pem.txt'), 'hello\n');
    expect(plan(`{ url: "${promUrl}", tls: { ca: ./not-pem.txt } }`).problems).toEqual([
      { file, path: 'spec.observe.prometheus.tls.ca', expected: 'a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)', found: `no certificate in ${join(dir, 'not-pem.txt')}` },
    ]);
    expect(plan(`{ url: "${promUrl}", tls: { ca: ./missing.pem } }`).problems?.[0]).toMatchObject({ path: 'spec.observe.prometheus.tls.ca', found: `ENOENT: ${join(dir, 'missing.pem')}` });
    expect(plan(`{ url: "http://127.0.0.1:9090", tls: { ca: ./ca.pem } }`).problems).toEqual([
      { file, path: 'spec.observe.prometheus.tls', expected: 'an https:// Prometheus URL (spec.observe.prometheus.url)', found: 'http://127.0.0.1:9090' },
    ]);
    // The plan holds the CA's certificates (public), read from the file relative to the scenario.
    expect(plan(`{ url: "${promUrl}", tls: { ca: ./ca.pem } }`).plan?.prometheus?.tls).toEqual({ ca: pki.read(pki.caCert) });
  });

  it('$__selector: replaced by the selector, removed without one; a query that no longer parses is refused', { timeout: 10_000 }, async () => {
    const clock = new SystemClock();
    const endedAtMs = clock.now();
    const view = { source: 'prometheus' as const, url: promUrl, scrapeIntervalS: 1, phases: [], scrapeGaps: [], p95Series: { query: '', points: [] } };
    const evaluate = async (prometheus: string, query: string): Promise<{ actual: number | null; detail?: string } | undefined> => {
      // The check's window: the last 2 s before now, as its baseline span ending at the run's end.
      const text = scenario(service.url, prometheus).replace('duration: 3s', 'duration: 2s').replace('sum(increase(task_api_requests_total$__selector[$__window]))', query);
      const p = planFromText(text, { file: join(dir, 's.yaml'), env: {} }).plan!;
      const shifted = { ...p, phases: p.phases.map((ph) => ({ ...ph, startMs: endedAtMs - 2000 + ph.startMs, endMs: endedAtMs - 2000 + ph.endMs })) };
      return (await evaluatePromql(shifted, view, clock, endedAtMs)).get('SERVED');
    };
    const ca = `tls: { ca: ./ca.pem }`;
    // `up` of the service: 1 with a selector that names it, nothing with one that names no target; without a selector, every target.
    const count = 'count(up$__selector == 1) or vector(0)';
    expect(await evaluate(`{ url: "${promUrl}", ${ca}, selector: '{job="svc"}' }`, count)).toMatchObject({ actual: 1 });
    expect((await evaluate(`{ url: "${promUrl}", ${ca}, selector: '{job="svc"}' }`, count))?.detail).toContain('count(up{job="svc"} == 1)');
    expect(await evaluate(`{ url: "${promUrl}", ${ca}, selector: '{job="other"}' }`, count)).toMatchObject({ actual: 0 });
    const none = await evaluate(`{ url: "${promUrl}", ${ca} }`, count);
    expect(none).toMatchObject({ actual: 1 });
    expect(none?.detail).toContain('count(up == 1) or vector(0) at');

    // Validated as it will be evaluated: braces the query already has do not merge with the selector.
    const refused = planFromText(scenario(service.url, `{ url: "${promUrl}", ${ca}, selector: '{job="svc"}' }`).replace('task_api_requests_total$__selector', 'task_api_requests_total{status="500"}$__selector'), { file: join(dir, 's.yaml'), env: {} });
    expect(refused.problems?.map((p) => [p.path, p.expected, p.found.replace(/, near .*/, '')])).toEqual([
      ['spec.checks[0].query', 'a PromQL expression', 'a syntax error at line 1, column 51 of the query with $__selector replaced by {job="svc"}'],
    ]);
    // Without a selector the same query parses ($__selector removed).
    expect(planFromText(scenario(service.url, `{ url: "${promUrl}", ${ca} }`).replace('task_api_requests_total$__selector', 'task_api_requests_total{status="500"}$__selector'), { file: join(dir, 's.yaml'), env: {} }).problems).toBeUndefined();
  });
});

describe.skipIf(!!why)(`an existing Prometheus that asks for a client certificate (mTLS)${why ? ` — skipped: ${why}` : ''}`, () => {
  let dir = '';
  let pki: TestPki;
  let prom: ChildProcess | undefined;
  let promUrl = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gd-prom-mtls-'));
    pki = makeTestPki();
    for (const f of ['ca.pem', 'client.crt', 'client.key', 'other-client.crt', 'other-client.key']) copyFileSync(join(pki.dir, f), join(dir, f));
    writeFileSync(join(dir, 'prometheus.yml'), 'global: { scrape_interval: 1s }\n');
    const web = `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n`;
    ({ proc: prom, url: promUrl } = await startHttpsPrometheus(dir, web, pki.read(pki.caCert), { cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) }));
  }, 30_000);

  afterAll(async () => {
    await stopPrometheus(prom);
    pki?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scenarioWith = (tls: string): string => scenario('http://127.0.0.1:9', `{ url: "${promUrl}", tls: ${tls} }`);

  it('queried with tls.cert and tls.key; without a certificate, or with one of another CA, the run is told which', { timeout: 20_000 }, async () => {
    const file = join(dir, 's.yaml');
    const plan = (tls: string): Plan => {
      const r = planFromText(scenarioWith(tls), { file, env: {} });
      if (!r.plan) throw new Error(JSON.stringify(r.problems));
      return r.plan;
    };
    const good = plan('{ ca: ./ca.pem, cert: ./client.crt, key: ./client.key }');
    expect(await prometheusPreflight(good)).toBeUndefined();
    // The server view's and the k6 feed's client: the same access, key included, queried for real.
    expect(await new PrometheusQuery(prometheusAccess(good.prometheus!)).scalar('vector(7)', Date.now())).toBe(7);
    expect(await prometheusPreflight(plan('{ ca: ./ca.pem }'))).toMatch(
      new RegExp(`^Prometheus at ${promUrl.replaceAll('.', '\\.')} asks for a client certificate \\(ERR_SSL_\\w+\\): it and its key go in spec\\.observe\\.prometheus\\.tls\\.cert and tls\\.key$`),
    );
    expect(await prometheusPreflight(plan('{ ca: ./ca.pem, cert: ./other-client.crt, key: ./other-client.key }'))).toMatch(/ refused the client certificate of spec\.observe\.prometheus\.tls\.cert \(ERR_SSL_\w+\): one signed by a CA it trusts goes there$/);
    // The key is a secret: never in the plan's JSON (journal, result.json), nor in an inspected plan.
    const key = pki.read(pki.clientKey);
    const keyBody = key.split('\n')[1] as string;
    expect(JSON.stringify(good)).not.toContain(keyBody);
    expect(inspect(good, { depth: 10 })).not.toContain(keyBody);
    expect(good.prometheus?.tls?.key?.reveal()).toBe(key);
  });

  it('validation: cert without key, a key of another certificate, an empty tls block, each at its path', { timeout: 10_000 }, () => {
    const file = join(dir, 'v.yaml');
    const problems = (tls: string): Array<[string, string]> | undefined => planFromText(scenarioWith(tls), { file, env: {} }).problems?.map((p) => [p.path, p.found]);
    expect(problems('{ ca: ./ca.pem, cert: ./client.crt }')).toEqual([['spec.observe.prometheus.tls.key', 'nothing']]);
    expect(problems('{ cert: ./client.crt, key: ./other-client.key }')).toEqual([['spec.observe.prometheus.tls.key', `a key that does not match it: ${join(dir, 'other-client.key')}`]]);
    expect(problems('{}')).toEqual([['spec.observe.prometheus.tls', 'an empty block']]);
  });
});
