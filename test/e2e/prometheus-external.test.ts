import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusQuery } from '../../harness/observe/prometheus-query.js';
import { findPrometheus, startPrometheus, type PrometheusServer } from '../../harness/platform/local/prometheus.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { wantsPrometheus } from '../../harness/run/server-side.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/leftovers.js';

/**
 * A Prometheus the run did not start (as a cluster's): a real `prometheus` scraping a Task-API-shaped
 * service, behind a loopback reverse proxy that demands a bearer token (Prometheus 2.42's web
 * config cannot check one itself). The run is pointed at the proxy with --prometheus.
 */
const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';
const TOKEN = 'prom-e2e-7f3c9a1b2d4e6f80';
const WRONG = 'prom-e2e-wrong-5a6b7c8d9e0f';

/** Every 5th item read answers 500: the servers count them like the clients. */
async function startService(): Promise<{ server: Server; url: string; port: number }> {
  const registry = new Registry();
  const requests = new Counter({ name: 'task_api_requests_total', help: 'requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const durations = new Histogram({ name: 'task_api_request_duration_seconds', help: 'durations', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry] });
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    const path = req.url?.split('?')[0] ?? '/';
    if (path === '/metrics') {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      return;
    }
    const started = process.hrtime.bigint();
    const route = path.startsWith('/tasks/') ? '/tasks/:id' : path;
    const [status, body] = req.url?.startsWith('/tasks?') ? [200, '{"items":[{"id":1},{"id":2},{"id":3}],"next_cursor":null}'] : ++n % 5 === 0 ? [500, '{"error":"boom"}'] : [200, '{"id":1,"title":"t"}'];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body, () => {
      requests.inc({ method: req.method ?? 'GET', route, status: String(status) });
      durations.observe({ method: req.method ?? 'GET', route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

/** Forwards to Prometheus only requests that carry `Authorization: Bearer <TOKEN>`; the rest get a plain-text 401. */
async function startAuthProxy(upstream: string): Promise<{ server: Server; url: string; seen: { ok: number; refused: number } }> {
  const up = new URL(upstream);
  const seen = { ok: 0, refused: 0 };
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      seen.refused++;
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('Unauthorized\n');
      return;
    }
    seen.ok++;
    const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const scenario = (target: string): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: prom-external }
spec:
  duration: 4s
  warmup: 1s
  target: { url: "${target}" }
  observe:
    prometheus: { url: "http://127.0.0.1:1", selector: '{job="replicas", replica="svc-0"}' }
  load: { model: open, rate: 25, connections: 8, timeout: 2s, mix: { get: 100 } }
  checks:
    - { id: CLIENT, name: clients got answers, metric: throughput.rps, target: "> 5" }
    - { id: SERVED, name: servers counted requests, metric: promql, during: [baseline], target: "> 10",
        query: 'sum(increase(task_api_requests_total{job="replicas"}[$__window]))' }
`;

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe.skipIf(!!why)(`an existing Prometheus behind a bearer token (--prometheus)${why ? ` — skipped: ${why}` : ''}`, () => {
  let dir = '';
  let file = '';
  let service: Awaited<ReturnType<typeof startService>>;
  let prom: PrometheusServer;
  let proxy: Awaited<ReturnType<typeof startAuthProxy>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gd-prom-ext-'));
    service = await startService();
    prom = await startPrometheus((binary as { path: string }).path, { targets: [{ replica: 'svc-0', port: service.port }] });
    proxy = await startAuthProxy(prom.url);
    file = join(dir, 'scenario.yaml');
    writeFileSync(file, scenario(service.url));
    // The service is scraped before the runs start: its counters have a first sample.
    await prom.waitScraped(['svc-0'], 10_000);
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
    // The test's Prometheus leaves nothing either (the runs started none).
    if (prom) {
      expect(isAlive(prom.pid)).toBe(false);
      expect(existsSync(prom.dir)).toBe(false);
    }
    await new Promise((r) => proxy?.server.close(r));
    await new Promise((r) => service?.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** One CLI run with PROM_TOKEN set to `token`; asserts no output file and no console line holds it. */
  async function run(name: string, token: string): Promise<{ code: number | null; r: ResultDocument; stdout: string; stderr: string }> {
    const out = join(dir, name);
    const res = await runCli(['run', file, '--out', out, '--prometheus', proxy.url, '--prometheus-token-env', 'PROM_TOKEN'], { PROM_TOKEN: token });
    const written = files(out);
    expect(written.map((f) => f.slice(out.length + 1))).toEqual(expect.arrayContaining(['result.json', 'summary.md', 'report.html', 'junit.xml']));
    for (const f of written) expect(readFileSync(f, 'latin1').includes(token), `${f} holds the token`).toBe(false);
    expect(res.stdout + res.stderr).not.toContain(token);
    return { code: res.code, r: JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument, stdout: res.stdout, stderr: res.stderr };
  }

  it('with the token: the servers\' view read through the proxy, the seed\'s queries narrowed by the selector, no token in any output', { timeout: 60_000 }, async () => {
    const before = proxy.seen.refused;
    const { code, r, stdout } = await run('good', TOKEN);
    expect(code).toBe(0);
    expect(proxy.seen.refused).toBe(before);
    expect(proxy.seen.ok).toBeGreaterThan(3);
    const server = r.server;
    if (!server || 'skipped' in server) throw new Error(`no server view: ${JSON.stringify(server)}`);
    expect(server.url).toBe(proxy.url);
    expect(server.scrapeIntervalS).toBe(1);
    const whole = server.phases.find((p) => p.phase === 'run')!;
    expect(whole.server.seed5xx.query).toBe('sum(increase(task_api_requests_total{status=~"5..", job="replicas", replica="svc-0"}[3s]))');
    expect(whole.server.p95.seedQuery).toContain('task_api_request_duration_seconds_bucket{route!~"/health|/metrics", job="replicas", replica="svc-0"}');
    // Every failure is a 500 the service answered: both sides count about the same. Not exactly: the
    // window's edges fall mid-traffic (counters are interpolated between 1 s scrapes, clients place a
    // request at its send time), and a loaded machine delays sends; so within 30 %, which still
    // catches a selector that matches nothing or a series counted twice.
    expect(r.requests.status5xx).toBeGreaterThan(5);
    const near = (server: number, client: number): void => {
      expect(server).toBeGreaterThanOrEqual(Math.floor(client * 0.7));
      expect(server).toBeLessThanOrEqual(Math.ceil(client * 1.3));
    };
    near(whole.server.status5xx, whole.client.status5xx);
    near(whole.server.requests, whole.client.responses);
    expect(r.checks.find((c) => c.id === 'SERVED')).toMatchObject({ passed: true });
    expect(stdout).toContain(`server side (Prometheus at ${proxy.url} {job="replicas", replica="svc-0"}, 1 s scrapes) next to the clients:`);
    const summary = readFileSync(join(dir, 'good', 'summary.md'), 'utf8');
    expect(summary).toContain('Server side');
  });

  it('with a wrong token: a precise 401 reason, the cross-check skipped, the run judged otherwise', { timeout: 60_000 }, async () => {
    const { code, r, stdout, stderr } = await run('wrong', WRONG);
    const reason = `Prometheus at ${proxy.url} answered 401 Unauthorized: the bearer token from $PROM_TOKEN was refused`;
    expect(r.server).toEqual({ skipped: reason });
    // Said as the run starts, and again as the reason the cross-check was skipped.
    expect(stdout + stderr).toContain(`server-side cross-check: ${reason}; the run goes on and asks again after the load`);
    expect(stdout + stderr).toContain(`server-side cross-check skipped: ${reason}`);
    // The clients' checks are judged; the promql check has no data, which never passes.
    expect(r.checks.find((c) => c.id === 'CLIENT')).toMatchObject({ passed: true });
    expect(r.checks.find((c) => c.id === 'SERVED')).toMatchObject({ actual: null, passed: false });
    expect(code).toBe(1);
  });

  it('an unreachable Prometheus and a missing token are named as such; a redirect is not followed', { timeout: 10_000 }, async () => {
    // A redirect could lead anywhere (the URL's host is what was allowed): refused, not followed.
    const redirect = createServer((req, res) => void res.writeHead(302, { location: `${prom.url}${req.url ?? '/'}` }).end());
    await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r));
    const redirectUrl = `http://127.0.0.1:${(redirect.address() as AddressInfo).port}`;
    try {
      await expect(new PrometheusQuery({ url: redirectUrl }).check()).rejects.toThrow(`Prometheus at ${redirectUrl} answered HTTP 302: `);
    } finally {
      await new Promise((r) => redirect.close(r));
    }
    await expect(new PrometheusQuery({ url: 'http://127.0.0.1:1' }).check()).rejects.toThrow(/^Prometheus at http:\/\/127\.0\.0\.1:1 is unreachable: .*ECONNREFUSED/);
    await expect(new PrometheusQuery({ url: proxy.url }).check()).rejects.toThrow(
      `Prometheus at ${proxy.url} answered 401 Unauthorized: no bearer token was sent (set spec.observe.prometheus.bearerTokenEnv or --prometheus-token-env)`,
    );
  });
});

describe('spec.observe.prometheus and --prometheus are validated before anything starts', () => {
  it('a remote host not allowed, an unset token variable, a selector that is not matchers, a bad scheme: each named', () => {
    const doc = scenario('http://127.0.0.1:9').replace(
      `prometheus: { url: "http://127.0.0.1:1", selector: '{job="replicas", replica="svc-0"}' }`,
      `prometheus: { url: "https://prometheus.example.com", bearerTokenEnv: GD_UNSET_TOKEN_VAR, selector: 'up{job="x"}' }`,
    );
    expect(planFromText(doc, { env: {} }).problems).toEqual([
      { path: 'spec.observe.prometheus.url', expected: 'a loopback host, or a host listed in spec.target.allowHosts / --allow-host', found: 'prometheus.example.com' },
      { path: 'spec.observe.prometheus.bearerTokenEnv', expected: 'the environment variable GD_UNSET_TOKEN_VAR set to the bearer token', found: 'unset or empty' },
      { path: 'spec.observe.prometheus.selector', expected: 'label matchers in braces, such as {namespace="staging"}', found: '"up{job=\\"x\\"}"' },
    ]);
    // Allowed by --allow-host, the token set, matchers only: the plan carries the variable's name, never its value.
    const ok = planFromText(doc.replace(`'up{job="x"}'`, `'{job="x"}'`), { env: { GD_UNSET_TOKEN_VAR: TOKEN }, allowHosts: ['prometheus.example.com'] });
    expect(ok.plan?.prometheus).toEqual({ url: 'https://prometheus.example.com', bearerTokenEnv: 'GD_UNSET_TOKEN_VAR', selector: '{job="x"}' });
    expect(JSON.stringify(ok.plan)).not.toContain(TOKEN);
    // On the local platform an existing Prometheus replaces the one the platform would start.
    const local = planFromText(doc.replace('target: { url: "http://127.0.0.1:9" }', 'platform: { local: { replicas: 1 } }').replace('prometheus.example.com', '127.0.0.1').replace(`'up{job="x"}'`, `'{job="x"}'`), { env: { GD_UNSET_TOKEN_VAR: 'x' } });
    expect(local.problems).toBeUndefined();
    expect(wantsPrometheus(local.plan!)).toBe(false);
    expect(wantsPrometheus(planFromText(doc.replace('target: { url: "http://127.0.0.1:9" }', 'platform: { local: { replicas: 1 } }').replace(/ {2}observe:\n.*\n/, ''), { env: {} }).plan!)).toBe(true);
    // `gameday validate` checks the variable's name, not that the secret is set (a lint job has none).
    const lint = planFromText(doc.replace(`'up{job="x"}'`, `'{job="x"}'`), { env: {}, allowHosts: ['prometheus.example.com'], secretsRequired: false });
    expect(lint.problems).toBeUndefined();
    expect(planFromText(doc.replace('GD_UNSET_TOKEN_VAR', '1BAD'), { env: {}, allowHosts: ['prometheus.example.com'], secretsRequired: false }).problems?.[0]?.path).toBe('spec.observe.prometheus.bearerTokenEnv');
    // The command line's URL overrides the scenario's and is held to the same rules.
    expect(planFromText(doc, { env: { GD_UNSET_TOKEN_VAR: 'x' }, prometheus: { url: 'file:///etc/passwd' } }).problems?.[0]).toEqual({ path: '--prometheus', expected: 'an http:// or https:// URL', found: 'file:' });
  });
});
