import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { formatProblem } from '../../harness/core/errors.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import type { LocalDeployment } from '../../harness/platform/local/index.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { AppPlan } from '../../harness/scenario/plan.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'test-token';
const fastProbe = { initialDelayMs: 0, periodMs: 100, timeoutMs: 1000, failureThreshold: 1, successThreshold: 1 };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh connection (so the Service picks an endpoint for it). */
function call(url: string, method: string, path: string, opts: { body?: string; auth?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = opts.auth === false ? {} : { authorization: `Bearer ${TOKEN}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = request(`${url}${path}`, { method, agent: false, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A platform run inside a TMPDIR of the test's own (so its leftovers can be told from the
 * machine's), set up in beforeAll and removed in afterAll.
 */
function harness(app: AppPlan, overrides: Parameters<typeof localPlatformPlan>[0] = {}) {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  const platform = new LocalPlatform(localPlatformPlan({ readinessProbe: fastProbe, terminationGracePeriodMs: 2000, app, ...overrides }), { journal }, clock);
  let tmp: ReturnType<typeof privateTmp> | undefined;
  let savedTmp: string | undefined;
  return {
    platform,
    journal,
    tmpEntries: () => tmp?.entries() ?? [],
    enter(): void {
      tmp = privateTmp();
      savedTmp = process.env['TMPDIR'];
      process.env['TMPDIR'] = tmp.dir;
    },
    async leave(): Promise<void> {
      await platform.teardown();
      if (savedTmp === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = savedTmp;
      if (tmp) rmSync(tmp.dir, { recursive: true, force: true });
    },
  };
}

describe('local platform: kv-api replicas on PostgreSQL (spec.platform.local.app)', () => {
  const kvApi: AppPlan = {
    name: 'kv-api',
    command: ['node', 'fixtures/kv-api/main.mjs'],
    env: { API_TOKEN: TOKEN, SEED_ITEMS: '50' },
    workingDir: ROOT,
    readinessPath: '/health',
    database: true,
  };
  const { platform, journal, tmpEntries, enter, leave } = harness(kvApi);
  let deployment: LocalDeployment;

  beforeAll(async () => {
    enter();
    deployment = await platform.deploy(new AbortController().signal);
  }, 60_000);
  afterAll(leave);

  it('starts every replica on a port of its own from PORT, with DATABASE_URL, ready behind the Service', async () => {
    const replicas = deployment.replicas();
    expect(replicas).toHaveLength(3);
    expect(replicas.every((r) => r.ready && r.name.startsWith('kv-api-'))).toBe(true);
    expect(new Set(replicas.map((r) => r.port)).size).toBe(3);
    expect(deployment.databaseUrl).toMatch(/^postgres:\/\//);
    expect(deployment.seededIds).toBeUndefined();
    const types = journal.events().map((e) => e.type);
    expect(types).toContain('database.ready');
    expect(types).not.toContain('database.seeded');
    // The app's own routes and auth, through the Service.
    expect((await call(deployment.serviceUrl, 'GET', '/v1/items/item-00001', { auth: false })).status).toBe(401);
    const seeded = await call(deployment.serviceUrl, 'GET', '/v1/items/item-00001');
    expect(seeded.status).toBe(200);
    expect(JSON.parse(seeded.body)).toMatchObject({ key: 'item-00001', value: { n: 1 } });
  });

  it('shares one database: a write through one replica is read through every other', async () => {
    const put = await call(deployment.serviceUrl, 'PUT', '/v1/items/shared-1', { body: '{"v":42}' });
    expect(put.status).toBe(201);
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      const got = await call(deployment.serviceUrl, 'GET', '/v1/items/shared-1');
      expect(got.status).toBe(200);
      expect(JSON.parse(got.body).value).toEqual({ v: 42 });
      seen.add(String(got.headers['x-replica']));
    }
    expect(seen.size).toBe(3);
  });

  it('pod-kill: a SIGKILLed replica is replaced on a new port, and the data outlives it', async () => {
    const victim = deployment.replicas()[0]!;
    expect((await platform.replicaControl.kill(victim.name, { how: 'kill' })).killed).toBe(true);
    const replaced = await waitFor(() => journal.events().some((e) => e.type === 'replica.ready' && e.detail?.['replaces'] === victim.name), 15_000);
    expect(replaced).toBe(true);
    const exited = journal.events().find((e) => e.type === 'replica.exited' && e.target === victim.name);
    expect(exited?.detail).toMatchObject({ signal: 'SIGKILL' });
    expect(isAlive(victim.pid!)).toBe(false);
    const now = deployment.replicas();
    expect(now.filter((r) => r.ready)).toHaveLength(3);
    expect(now.map((r) => r.name)).not.toContain(victim.name);
    const got = await call(deployment.serviceUrl, 'GET', '/v1/items/shared-1');
    expect(JSON.parse(got.body).value).toEqual({ v: 42 });
  });

  it('tears down gracefully (SIGTERM: the app exits 0) and leaves no process or temp directory', async () => {
    const names = deployment.replicas().map((r) => r.name);
    const pids = deployment.replicas().map((r) => r.pid!);
    await platform.teardown();
    expect(pids.filter(isAlive)).toEqual([]);
    for (const name of names) {
      const exited = journal.events().find((e) => e.type === 'replica.exited' && e.target === name);
      expect(exited?.detail).toEqual({ code: 0, signal: null });
    }
    await waitFor(() => descendants().length === 0, 5000);
    expect(descendants().map(describeProcess)).toEqual([]);
    expect(tmpEntries()).toEqual([]);
  });
});

/**
 * A stand-in for any service: answers 200 only on READY_PATH, reports DATABASE_URL, starts a
 * child of its own (so the replica is a process group, not one process), and ignores SIGTERM
 * when asked to.
 */
const ANY_APP = `
const http = require('node:http');
const child = require('node:child_process').spawn('sleep', ['300'], { stdio: 'ignore' });
if (process.env.IGNORE_TERM === '1') process.on('SIGTERM', () => undefined);
http.createServer((req, res) => {
  res.writeHead(req.url === process.env.READY_PATH ? 200 : 503, { 'x-child': String(child.pid) });
  res.end(process.env.DATABASE_URL ?? 'no database');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('local platform: any app without a database', () => {
  const app: AppPlan = {
    name: 'any',
    command: ['node', '-e', ANY_APP],
    env: { READY_PATH: '/ready-here', IGNORE_TERM: '1' },
    readinessPath: '/ready-here',
    database: false,
  };
  const { platform, journal, tmpEntries, enter, leave } = harness(app, { replicas: 2, terminationGracePeriodMs: 300 });
  let deployment: LocalDeployment;

  beforeAll(async () => {
    enter();
    deployment = await platform.deploy(new AbortController().signal);
  }, 30_000);
  afterAll(leave);

  it('probes readinessPath, starts no PostgreSQL and sets no DATABASE_URL', async () => {
    // Ready at all proves the probe used /ready-here: every other path answers 503.
    expect(deployment.replicas().filter((r) => r.ready)).toHaveLength(2);
    expect(deployment.databaseUrl).toBeUndefined();
    expect(journal.events().map((e) => e.type)).not.toContain('database.ready');
    const res = await call(deployment.serviceUrl, 'GET', '/ready-here');
    expect(res.body).toBe('no database');
    expect(descendants().map(describeProcess).join('\n')).not.toMatch(/postgres/);
  });

  it('pod-kill takes the whole process group; an app ignoring SIGTERM is SIGKILLed after the grace period', async () => {
    const victim = deployment.replicas()[0]!;
    const childPid = Number((await call(`http://127.0.0.1:${victim.port}`, 'GET', '/')).headers['x-child']);
    expect(isAlive(childPid)).toBe(true);
    expect((await platform.replicaControl.kill(victim.name, { how: 'kill' })).killed).toBe(true);
    expect(await waitFor(() => !isAlive(childPid), 5000)).toBe(true);
    expect(await waitFor(() => deployment.replicas().filter((r) => r.ready).length === 2 && !deployment.replicas().some((r) => r.name === victim.name), 10_000)).toBe(true);

    const children = await Promise.all(deployment.replicas().map(async (r) => Number((await call(`http://127.0.0.1:${r.port}`, 'GET', '/')).headers['x-child'])));
    const names = deployment.replicas().map((r) => r.name);
    await platform.teardown();
    for (const name of names) {
      const exited = journal.events().find((e) => e.type === 'replica.exited' && e.target === name);
      expect(exited?.detail).toEqual({ code: null, signal: 'SIGKILL' });
    }
    expect(children.filter(isAlive)).toEqual([]);
    await waitFor(() => descendants().length === 0, 5000);
    expect(descendants().map(describeProcess)).toEqual([]);
    expect(tmpEntries()).toEqual([]);
  });
});

describe('local platform: an app that cannot start', () => {
  it('fails the deployment at once with the reason, not after the start timeout', async () => {
    const { platform, enter, leave } = harness({ name: 'broken', command: ['./no-such-server'], env: {}, readinessPath: '/health', database: false }, { replicas: 1 });
    enter();
    const t0 = performance.now();
    try {
      await expect(platform.deploy(new AbortController().signal)).rejects.toThrow(/broken-.* failed to start[\s\S]*no-such-server[\s\S]*ENOENT/);
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      await leave();
    }
  });

  it('reports an app that exits before listening with its stderr', async () => {
    const { platform, enter, leave } = harness({ name: 'crashy', command: ['node', '-e', 'console.error("missing CONFIG_X"); process.exit(3)'], env: {}, readinessPath: '/health', database: false }, { replicas: 1 });
    enter();
    try {
      await expect(platform.deploy(new AbortController().signal)).rejects.toThrow(/exited \(code 3[\s\S]*missing CONFIG_X/);
    } finally {
      await leave();
    }
  });
});

describe('scenario: spec.platform.local.app', () => {
  const scenario = (app: string, rest = '', platform = ''): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: app }
spec:
  duration: 30s
  warmup: 2s
  platform:
    local:
      app: ${app}
${platform}
  workload: { requests: [{ name: health, path: /health }] }
${rest}`;
  const problems = (text: string): string[] => {
    const r = planFromText(text, { file: '/srv/scenarios/x.yaml', env: {} });
    return r.problems ? r.problems.map(formatProblem) : [];
  };
  const fault = (f: string): string => `  faults:\n    - ${f}\n`;

  it('plans the app with defaults, its working directory relative to the scenario file', () => {
    const r = planFromText(scenario('{ command: [node, ../fixtures/kv-api/main.mjs], env: { API_TOKEN: t } }'), { file: '/srv/scenarios/x.yaml', env: {} });
    expect(r.problems).toBeUndefined();
    expect(r.plan!.platform).toMatchObject({
      kind: 'local',
      app: { name: 'app', command: ['node', '../fixtures/kv-api/main.mjs'], env: { API_TOKEN: 't' }, workingDir: '/srv/scenarios', readinessPath: '/health', database: false },
    });
    const other = planFromText(scenario('{ name: kv, command: [./kv], workingDir: ../bin, readinessPath: /ready, database: true }'), { file: '/srv/scenarios/x.yaml', env: {} });
    expect(other.plan!.platform).toMatchObject({ app: { name: 'kv', workingDir: '/srv/bin', readinessPath: '/ready', database: true } });
  });

  it('refuses what the platform sets, a bad probe path, an empty command, a database URL for an app without one', () => {
    const found = problems(scenario('{ command: [], env: { PORT: "80", DATABASE_URL: x }, readinessPath: health }', '', '      database: { url: "postgres://127.0.0.1/x" }'));
    expect(found.join('\n')).toMatch(/spec\.platform\.local\.app\.command/);
    expect(found.join('\n')).toMatch(/spec\.platform\.local\.app\.readinessPath: expected a path starting with \//);
    const env = problems(scenario('{ command: [x], env: { PORT: "80", DATABASE_URL: x } }', '', '      database: { url: "postgres://127.0.0.1/x" }'));
    expect(env).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/spec\.platform\.local\.app\.env\.PORT: expected no PORT, DATABASE_URL, REPLICA_NAME: the platform sets them/),
        expect.stringMatching(/spec\.platform\.local\.app\.env\.DATABASE_URL: expected no PORT/),
        expect.stringMatching(/spec\.platform\.local\.database: expected no database for an app with database: false/),
      ]),
    );
  });

  it('refuses faults that need the database for an app without one, and those that need the Task API for any app', () => {
    const noDb = '{ command: [x] }';
    const withDb = '{ command: [x], database: true }';
    expect(problems(scenario(noDb, fault('{ name: slow, kind: network-delay, at: 5s, duration: 5s, delay: { latency: 100ms } }')))).toEqual([
      expect.stringMatching(/spec\.faults\[0\]\.kind: expected a fault that needs no database \(spec\.platform\.local\.app has database: false; set it to true\)/),
    ]);
    expect(problems(scenario(noDb, fault('{ name: hold, kind: pool-exhaustion, at: 5s, duration: 5s, mode: hold }')))).toEqual([expect.stringMatching(/spec\.faults\[0\]\.kind: expected a fault that needs no database/)]);
    expect(problems(scenario(withDb, fault('{ name: leak, kind: pool-exhaustion, at: 5s, duration: 5s, mode: leak }')))).toEqual([
      expect.stringMatching(/spec\.faults\[0\]\.mode: expected pool-exhaustion mode "hold" with an app \(mode "leak" needs the Task API's leak endpoint\)/),
    ]);
    expect(problems(scenario(withDb, fault('{ name: lock, kind: pool-exhaustion, at: 5s, duration: 5s, mode: lock }')))).toEqual([expect.stringMatching(/mode "lock" needs the Task API's tasks table/)]);
    // What an app with a database can take: a slow database, held connections, and pod-kill with any app.
    expect(problems(scenario(withDb, fault('{ name: slow, kind: network-delay, at: 5s, duration: 5s, delay: { latency: 100ms } }')))).toEqual([]);
    expect(problems(scenario(withDb, fault('{ name: hold, kind: pool-exhaustion, at: 5s, duration: 5s, mode: hold }')))).toEqual([]);
    expect(problems(scenario(noDb, fault('{ name: kill, kind: pod-kill, at: 5s, duration: 5s }')))).toEqual([]);
  });

  it('refuses checks an app cannot answer: durability without read-back, resources without a database', () => {
    const checks = '  checks:\n    - { id: D, name: d, metric: durability.lostWrites, target: "== 0" }\n    - { id: R, name: r, metric: resources.leaked, target: "== 0" }\n';
    expect(problems(scenario('{ command: [x] }', checks))).toEqual([
      expect.stringMatching(/spec\.checks\[0\]\.metric: expected durability\.lostWrites with spec\.platform\.local\.app only when a request reads its writes back \(write\.read\)/),
      expect.stringMatching(/spec\.checks\[1\]\.metric: expected resources\.leaked only with a database/),
    ]);
    expect(problems(scenario('{ command: [x], database: true }', checks))).toEqual([expect.stringMatching(/spec\.checks\[0\]\.metric: expected durability\.lostWrites with spec\.platform\.local\.app only when a request reads its writes back \(write\.read\)/)]);
  });
});
