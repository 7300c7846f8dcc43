import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { formatProblem } from '../../harness/core/errors.js';
import { Journal } from '../../harness/core/journal.js';
import { createInjector, type FaultContext } from '../../harness/faults/index.js';
import { FaultSchedule } from '../../harness/run/fault-schedule.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { ExecActionPlan, ExecFaultPlan, HttpActionPlan, HttpFaultPlan } from '../../harness/scenario/plan.js';
import { isAlive, waitFor } from '../helpers/leftovers.js';

const NODE = process.execPath;
let dir = '';
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'gd-exec-http-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A fresh file path in the test's directory. */
const file = (name: string): string => join(dir, `${++seq}-${name}`);

function context(logDir?: string): { ctx: FaultContext; journal: Journal; clock: SystemClock } {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  const deployment = { serviceUrl: 'http://127.0.0.1:9', replicas: () => [] };
  const platform = { kind: 'external' as const, deploy: async () => deployment, teardown: async () => undefined };
  return { ctx: { platform, deployment, journal, clock, random: () => 0.5, ...(logDir ? { logDir } : {}) }, journal, clock };
}

/** A node one-liner as an argv command. */
function node(script: string, extra: Partial<ExecActionPlan> = {}): ExecActionPlan {
  return { command: { shell: false, argv: [NODE, '-e', script] }, timeoutMs: 10_000, env: {}, cwd: dir, ...extra };
}

/** Appends `word` to `path`: a visible trace that a command ran (and how often). */
const append = (path: string, word: string): string => `require('fs').appendFileSync(${JSON.stringify(path)}, ${JSON.stringify(word + '\n')})`;
const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

function execFault(inject: ExecActionPlan, recover?: ExecActionPlan, timing = { atMs: 0, durationMs: 1000 }): ExecFaultPlan {
  return { kind: 'exec', name: 'cmd', ...timing, inject, ...(recover ? { recover } : {}) };
}

describe('exec fault', () => {
  it('runs inject and recover as real processes without a shell, output in logs/, exit codes journalled, env values never', async () => {
    const logDir = mkdtempSync(join(dir, 'logs-'));
    const trace = file('trace');
    const { ctx, journal } = context(logDir);
    const secret = 's3cr3t-token-value';
    // Without a shell, `$HOME` and `;` are plain argument text.
    const inject = node(`${append(trace, 'inject')}; console.log('out:' + process.argv[1]); console.error('err:' + process.env.API_TOKEN.length)`, { env: { API_TOKEN: secret } });
    inject.command = { shell: false, argv: [...(inject.command as { argv: string[] }).argv, '$HOME;echo'] };
    const fault = createInjector(execFault(inject, node(append(trace, 'recover'))));
    const records = await fault.apply(ctx);
    expect(lines(trace)).toEqual(['inject']);
    expect(records).toHaveLength(1);
    await fault.recover(records, ctx);
    expect(lines(trace)).toEqual(['inject', 'recover']);
    expect(records[0]!.recoveredAtMs).toBeGreaterThanOrEqual(records[0]!.appliedAtMs);

    const log = readFileSync(join(logDir, 'fault-cmd.log'), 'utf8');
    expect(log).toContain('out:$HOME;echo');
    expect(log).toContain(`err:${secret.length}`);
    expect(log).toMatch(/inject \(.*node.*\): exit code 0/);
    const events = journal.events();
    expect(events.map((e) => e.type)).toEqual(['exec.injected', 'exec.recovered']);
    expect(events[0]!.detail).toMatchObject({ exitCode: 0, timedOut: false, log: 'logs/fault-cmd.log' });
    expect(events[0]!.target).toBe(NODE);
    const journalled = JSON.stringify(events);
    expect(journalled).not.toContain(secret);
    expect(journalled).not.toContain('appendFileSync'); // arguments stay out of the journal
  });

  it('shell: true runs one string through /bin/sh', async () => {
    const trace = file('sh');
    const { ctx } = context();
    const fault = createInjector(execFault({ command: { shell: true, script: `echo "$GREETING" > ${trace}` }, timeoutMs: 5000, env: { GREETING: 'hi there' }, cwd: dir }));
    await fault.apply(ctx);
    expect(readFileSync(trace, 'utf8')).toBe('hi there\n');
  });

  it('a non-zero exit of inject fails the fault; recover still runs, once', async () => {
    const trace = file('trace');
    const { ctx, journal } = context();
    const fault = createInjector(execFault(node(`${append(trace, 'inject')}; process.exit(3)`), node(append(trace, 'recover'))));
    await expect(fault.apply(ctx)).rejects.toThrow(/inject command .*node.* exited with code 3/);
    expect(journal.events().at(-1)).toMatchObject({ type: 'exec.inject-failed', detail: { exitCode: 3, timedOut: false } });
    // Inject ran (and may have done part of its work): recovery undoes it, however often it is asked.
    await Promise.all([fault.recover([], ctx), fault.recover([], ctx)]);
    await fault.recover([], ctx);
    expect(lines(trace)).toEqual(['inject', 'recover']);
    expect(journal.events().filter((e) => e.type === 'exec.recovered')).toHaveLength(1);
  });

  it('a command that cannot start fails the fault with the reason', async () => {
    const { ctx, journal } = context();
    const fault = createInjector(execFault({ command: { shell: false, argv: ['/nonexistent/gameday-no-such-program'] }, timeoutMs: 5000, env: {}, cwd: dir }));
    await expect(fault.apply(ctx)).rejects.toThrow(/could not start \(.*ENOENT/);
    expect(journal.events().at(-1)).toMatchObject({ type: 'exec.inject-failed', detail: { exitCode: null } });
  });

  it('a command past its timeout has its whole process group killed, grandchildren included', async () => {
    const pidFile = file('pid');
    const { ctx, journal } = context();
    const script = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
    const fault = createInjector(execFault(node(script, { timeoutMs: 2500 })));
    const t0 = performance.now();
    await expect(fault.apply(ctx)).rejects.toThrow(/timed out after 2500ms \(process group killed\)/);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2490);
    expect(took).toBeLessThan(6000);
    expect(journal.events().at(-1)).toMatchObject({ type: 'exec.inject-failed', detail: { timedOut: true, signal: 'SIGKILL' } });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => !isAlive(grandchild), 3000)).toBe(true);
  });

  it('a recover that exits non-zero is journalled and reported as the fault error', async () => {
    const { ctx, journal, clock } = context();
    const fault = createInjector(execFault(node(''), node('process.exit(7)'), { atMs: 0, durationMs: 1000 }));
    const schedule = new FaultSchedule([fault], ctx, clock, journal);
    schedule.start();
    await waitFor(() => journal.events().some((e) => e.type.startsWith('fault.recover')), 10_000);
    await schedule.recoverAll();
    expect(schedule.error()?.message).toMatch(/recover command .*node.* exited with code 7/);
    expect(journal.events().map((e) => e.type)).toEqual(['fault.started', 'exec.injected', 'fault.applied', 'exec.recover-failed', 'fault.recover-failed']);
  });

  it('the run ending (Ctrl-C, abort) while inject runs kills it at once, then recovers', async () => {
    const trace = file('trace');
    const pidFile = file('pid');
    const { ctx, journal, clock } = context();
    const hang = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`;
    const fault = createInjector(execFault(node(hang, { timeoutMs: 60_000 }), node(append(trace, 'recover')), { atMs: 0, durationMs: 30_000 }));
    const schedule = new FaultSchedule([fault], ctx, clock, journal);
    schedule.start();
    expect(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 10_000)).toBe(true);
    const t0 = performance.now();
    await schedule.recoverAll(); // what the run does on SIGINT/SIGTERM or when the abort guard trips
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    expect(lines(trace)).toEqual(['recover']);
    expect(schedule.error()).toBeUndefined();
    expect(journal.events().map((e) => e.type)).toEqual(['fault.started', 'exec.inject-interrupted', 'fault.applied', 'exec.recovered', 'fault.recovered']);
  });
});

/** A loopback HTTP server that records what it receives and answers as told. */
class RecordingServer {
  readonly received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  /** Per request: the status, or 'hang' to never answer. */
  answer: (req: IncomingMessage) => number | 'hang' = () => 200;
  private server?: Server;
  private readonly held = new Set<ServerResponse>();
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const status = this.answer(req);
        if (status === 'hang') return void this.held.add(res);
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"secret-in-response":true}');
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function httpFault(inject: HttpActionPlan, recover?: HttpActionPlan, timing = { atMs: 0, durationMs: 1000 }): HttpFaultPlan {
  return { kind: 'http', name: 'flag', ...timing, inject, ...(recover ? { recover } : {}) };
}

describe('http fault', () => {
  const server = new RecordingServer();
  beforeAll(() => server.start());
  afterAll(() => server.close());
  afterEach(() => {
    server.received.length = 0;
    server.answer = () => 200;
  });

  const action = (method: HttpActionPlan['method'], path: string, extra: Partial<HttpActionPlan> = {}): HttpActionPlan => ({
    method,
    url: `${server.url}${path}`,
    headers: {},
    timeoutMs: 5000,
    ...extra,
  });

  it('sends inject and recover with their headers and bodies; the journal holds method, URL without query, status — no secrets', async () => {
    const { ctx, journal } = context();
    const inject = action('POST', '/proxies/db/toxics?token=qs-secret', {
      headers: { authorization: 'Bearer hdr-secret', 'content-type': 'application/json' },
      body: '{"type":"latency","attributes":{"latency":1000},"key":"body-secret"}',
    });
    const fault = createInjector(httpFault(inject, action('DELETE', '/proxies/db/toxics/latency')));
    const records = await fault.apply(ctx);
    await fault.recover(records, ctx);
    expect(server.received.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/proxies/db/toxics?token=qs-secret'],
      ['DELETE', '/proxies/db/toxics/latency'],
    ]);
    expect(server.received[0]!.headers.authorization).toBe('Bearer hdr-secret');
    expect(server.received[0]!.body).toContain('body-secret');
    const events = journal.events();
    expect(events.map((e) => e.type)).toEqual(['http.injected', 'http.recovered']);
    expect(events[0]!.detail).toMatchObject({ method: 'POST', url: `${server.url}/proxies/db/toxics`, status: 200 });
    const journalled = JSON.stringify(events) + JSON.stringify(records);
    for (const secret of ['qs-secret', 'hdr-secret', 'body-secret', 'secret-in-response']) expect(journalled).not.toContain(secret);
  });

  it('an unexpected status fails the fault (default: any 2xx); expect.status accepts others', async () => {
    const { ctx, journal } = context();
    server.answer = () => 503;
    await expect(createInjector(httpFault(action('POST', '/flags/x'))).apply(ctx)).rejects.toThrow(/inject POST .*\/flags\/x answered 503, expected 2xx/);
    expect(journal.events().at(-1)).toMatchObject({ type: 'http.inject-failed', detail: { status: 503 } });
    server.answer = () => 404;
    await expect(createInjector(httpFault(action('DELETE', '/flags/x', { expectStatus: [204, 404] }))).apply(ctx)).resolves.toHaveLength(1);
    await expect(createInjector(httpFault(action('DELETE', '/flags/x', { expectStatus: [204] }))).apply(ctx)).rejects.toThrow(/answered 404, expected 204/);
  });

  it('a request with no answer fails at its timeout; a refused connection fails at once', async () => {
    const { ctx, journal } = context();
    server.answer = () => 'hang';
    const t0 = performance.now();
    await expect(createInjector(httpFault(action('POST', '/slow', { timeoutMs: 400 }))).apply(ctx)).rejects.toThrow(/got no answer within 400ms/);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(3000);
    expect(journal.events().at(-1)).toMatchObject({ type: 'http.inject-failed', detail: { timedOut: true, status: null } });
    const closed = new RecordingServer();
    await closed.start();
    await closed.close();
    await expect(createInjector(httpFault({ ...action('POST', '/'), url: `${closed.url}/` })).apply(ctx)).rejects.toThrow(/failed \(ECONNREFUSED\)/);
  });

  it('recover is idempotent: one request however often it is called; nothing without a started inject', async () => {
    const { ctx } = context();
    const fault = createInjector(httpFault(action('POST', '/on'), action('POST', '/off')));
    await fault.recover([], ctx);
    expect(server.received).toEqual([]);
    const records = await fault.apply(ctx);
    await Promise.all([fault.recover(records, ctx), fault.recover(records, ctx)]);
    await fault.recover(records, ctx);
    expect(server.received.map((r) => r.url)).toEqual(['/on', '/off']);
  });

  it('the run ending while inject waits for an answer cuts it short, then recovers', async () => {
    const { ctx, journal, clock } = context();
    server.answer = (req) => (req.url === '/on' ? 'hang' : 200);
    const fault = createInjector(httpFault(action('POST', '/on', { timeoutMs: 60_000 }), action('POST', '/off'), { atMs: 0, durationMs: 30_000 }));
    const schedule = new FaultSchedule([fault], ctx, clock, journal);
    schedule.start();
    expect(await waitFor(() => server.received.length === 1, 5000)).toBe(true);
    const t0 = performance.now();
    await schedule.recoverAll();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(server.received.map((r) => r.url)).toEqual(['/on', '/off']);
    expect(journal.events().map((e) => e.type)).toEqual(['fault.started', 'http.inject-interrupted', 'fault.applied', 'http.recovered', 'fault.recovered']);
  });

  it('a recover answered with an error is journalled and reported as the fault error', async () => {
    const { ctx, journal, clock } = context();
    server.answer = (req) => (req.url === '/off' ? 500 : 200);
    const schedule = new FaultSchedule([createInjector(httpFault(action('POST', '/on'), action('POST', '/off'), { atMs: 0, durationMs: 100 }))], ctx, clock, journal);
    schedule.start();
    await waitFor(() => journal.events().some((e) => e.type.startsWith('fault.recover')), 5000);
    await schedule.recoverAll();
    expect(schedule.error()?.message).toMatch(/recover POST .*\/off answered 500/);
    expect(journal.events().map((e) => e.type)).toEqual(['fault.started', 'http.injected', 'fault.applied', 'http.recover-failed', 'fault.recover-failed']);
  });
});

describe('exec and http faults in a scenario', () => {
  const scenario = (faults: string, target = 'target: { url: "http://127.0.0.1:8080" }') => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: any-service }
spec:
  duration: 30s
  warmup: 2s
  ${target}
  faults:
${faults}
  checks: [{ id: RTO, name: client rto, metric: rto.client, target: "< 10s" }]
`;
  const problems = (text: string): string[] => {
    const r = planFromText(text, { file: '/srv/gd/scenario.yaml', env: {} });
    return r.problems ? r.problems.map(formatProblem) : [];
  };

  it('are allowed with spec.target.url and become plans (cwd relative to the scenario file, defaults filled in)', () => {
    const r = planFromText(
      scenario(`    - { name: outage, kind: exec, at: 5s, duration: 5s, inject: { command: [systemctl, kill, orders], env: { A: b } }, recover: { command: "systemctl start orders", shell: true, cwd: scripts, timeout: 1m } }
    - name: flag
      kind: http
      at: 15s
      duration: 3s
      inject: { method: POST, url: "http://127.0.0.1:8474/proxies/db/toxics", headers: { authorization: "Bearer x" }, body: "{}", expect: { status: [200, 409] } }
      recover: { method: DELETE, url: "http://localhost:8474/proxies/db/toxics/latency", timeout: 2s }`),
      { file: '/srv/gd/scenario.yaml', env: {} },
    );
    expect(r.problems).toBeUndefined();
    expect(r.plan!.faults).toEqual([
      {
        kind: 'exec',
        name: 'outage',
        atMs: 5000,
        durationMs: 5000,
        inject: { command: { shell: false, argv: ['systemctl', 'kill', 'orders'] }, timeoutMs: 30_000, env: { A: 'b' }, cwd: '/srv/gd' },
        recover: { command: { shell: true, script: 'systemctl start orders' }, timeoutMs: 60_000, env: {}, cwd: '/srv/gd/scripts' },
      },
      {
        kind: 'http',
        name: 'flag',
        atMs: 15_000,
        durationMs: 3000,
        inject: { method: 'POST', url: 'http://127.0.0.1:8474/proxies/db/toxics', headers: { authorization: 'Bearer x' }, body: '{}', expectStatus: [200, 409], timeoutMs: 10_000 },
        recover: { method: 'DELETE', url: 'http://localhost:8474/proxies/db/toxics/latency', headers: {}, timeoutMs: 2000 },
      },
    ]);
  });

  it('platform faults stay refused with spec.target', () => {
    expect(problems(scenario(`    - { name: kill, kind: pod-kill, at: 5s, duration: 5s }`))).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].kind: expected a fault that does not need a platform (exec, http): spec.target deploys nothing to act on, found "pod-kill"',
    ]);
  });

  it('refuses a non-loopback fault URL unless spec.target.allowHosts lists its host', () => {
    const flag = `    - { name: flag, kind: http, at: 5s, duration: 5s, inject: { method: POST, url: "https://flags.example.com/api/flags/x?on=1" } }`;
    expect(problems(scenario(flag))).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].inject.url: expected a loopback host (127.0.0.0/8, [::1], localhost) or a host listed in spec.target.allowHosts / --allow-host, found flags.example.com',
    ]);
    expect(problems(scenario(flag, 'target: { url: "http://127.0.0.1:8080", allowHosts: [other.example.com] }'))).toHaveLength(1);
    expect(problems(scenario(flag, 'target: { url: "http://127.0.0.1:8080", allowHosts: [FLAGS.example.com] }'))).toEqual([]);
    expect(planFromText(scenario(flag), { env: {}, allowHosts: ['flags.example.com'] }).problems).toBeUndefined(); // --allow-host
    expect(problems(scenario(`    - { name: flag, kind: http, at: 5s, duration: 5s, inject: { method: POST, url: "ftp://127.0.0.1/x" } }`))).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].inject.url: expected an http:// or https:// URL, found ftp:',
    ]);
    expect(problems(scenario(`    - { name: flag, kind: http, at: 5s, duration: 5s, inject: { method: POST, url: "http://u:p@127.0.0.1/x" } }`))).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].inject.url: expected no credentials in the URL (use headers: they are never journalled), found user info',
    ]);
  });

  it('holds commands to their form: argv without a shell, one string with shell: true', () => {
    expect(
      problems(scenario(`    - { name: a, kind: exec, at: 5s, duration: 2s, inject: { command: "kill -9 1234" }, recover: { command: [sh, -c, x], shell: true } }`)),
    ).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].inject.command: expected a list of arguments such as [systemctl, start, orders] (a string only with shell: true), found a string',
      '/srv/gd/scenario.yaml: spec.faults[0].recover.command: expected one string for shell: true (run by /bin/sh -c), found a list',
    ]);
  });

  it('holds every value to its bound, each problem at its path', () => {
    expect(
      problems(
        scenario(`    - { name: b, kind: exec, at: 10s, duration: 2s, inject: { command: [x], timeout: 10m, env: { "1BAD": x } } }
    - { name: c, kind: exec, at: 15s, duration: 2s, inject: { command: [] } }
    - { name: d, kind: http, at: 20s, duration: 2s, inject: { method: TRACE, url: "http://127.0.0.1/", timeout: 50ms, headers: { "bad header": x }, expect: { status: [99] } } }`),
      ),
    ).toEqual([
      '/srv/gd/scenario.yaml: spec.faults[0].inject.timeout: expected a duration such as "500ms", "30s" or "1m30s", from 100ms to 5m, found "10m"',
      '/srv/gd/scenario.yaml: spec.faults[0].inject.env.1BAD: expected an environment variable name (letters, digits, _; not starting with a digit), found "1BAD"',
      '/srv/gd/scenario.yaml: spec.faults[1].inject.command: expected ≥ 1 items, found an array of 0',
      '/srv/gd/scenario.yaml: spec.faults[2].inject.method: expected one of "GET", "POST", "PUT", "PATCH", "DELETE", found "TRACE"',
      '/srv/gd/scenario.yaml: spec.faults[2].inject.headers.bad header: expected an HTTP header name (an RFC 9110 token), found "bad header"',
      '/srv/gd/scenario.yaml: spec.faults[2].inject.expect.status[0]: expected ≥ 100, found number 99',
      '/srv/gd/scenario.yaml: spec.faults[2].inject.timeout: expected a duration such as "500ms", "30s" or "1m30s", from 100ms to 5m, found "50ms"',
    ]);
  });
});
