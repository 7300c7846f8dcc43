import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostNotAllowedError } from '../../harness/load/loopback.js';
import type { AcknowledgedWrite } from '../../harness/load/types.js';
import { Workload, type HttpRequestSpec } from '../../harness/load/workload.js';
import type { WorkloadPlan } from '../../harness/load/workload-plan.js';
import { decisiveByPath, readBackWrites } from '../../harness/observe/read-back.js';
import { buildResult } from '../../harness/report/result.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { planFromText } from '../../harness/scenario/index.js';

/**
 * Durability for any HTTP service: acknowledgements made by the workload from real responses,
 * then writes lost or changed behind the harness's back, read back over HTTP.
 */

const TOKEN = 'read-back-token';
const ENV = { TOKEN };

/** A small item service on loopback: bearer auth, ids with "/" and spaces (they must be URL-encoded). */
class ItemService {
  readonly items = new Map<string, { id: string; customer: string; qty: number }>();
  /** Ids whose GET answers 503; `hang`: GETs never answer. */
  readonly failing = new Set<string>();
  /** Every n-th create is acknowledged but not kept (0: none). */
  forgetEvery = 0;
  forgotten = 0;
  hang = false;
  gets = 0;
  private server!: Server;
  private n = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.url === '/health') return send(200, { status: 'ok' }); // the external platform's readiness
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'unauthorized' });
    if (req.method === 'POST' && req.url === '/items') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { customer: string; qty: number };
      const item = { id: `o/${++this.n} x`, customer: body.customer, qty: body.qty };
      if (this.forgetEvery > 0 && this.n % this.forgetEvery === 0) this.forgotten++;
      else this.items.set(item.id, item);
      return send(201, item);
    }
    const id = decodeURIComponent((req.url ?? '').replace(/^\/items\//, ''));
    const item = this.items.get(id);
    if (req.method === 'GET') {
      this.gets++;
      if (this.hang) return; // never answers
      if (this.failing.has(id)) return send(503, { error: 'unavailable' });
      return item ? send(200, item) : send(404, { error: 'not_found' });
    }
    if (!item) return send(404, { error: 'not_found' });
    if (req.method === 'PUT') {
      item.qty = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { qty: number }).qty;
      return send(200, item);
    }
    if (req.method === 'DELETE') {
      this.items.delete(id);
      return send(204);
    }
    send(405);
  }
}

const READ = '/items/{id}';
const headers = { 'content-type': 'application/json', authorization: 'Bearer {{env TOKEN}}' };
const PLAN: WorkloadPlan = {
  pools: [{ name: 'ids', capacity: 100 }],
  requests: [
    {
      name: 'create',
      weight: 1,
      method: 'POST',
      path: '/items',
      headers,
      body: '{"customer": {{json (faker "person.fullName")}}, "qty": {{int 1 9}}}',
      expect: [201],
      capture: { ids: '/id' },
      write: { op: 'create', idPointer: '/id', read: READ, fields: ['/customer', '/qty'] },
    },
    { name: 'update', weight: 1, method: 'PUT', path: '/items/{{pick ids}}', headers, body: '{"qty": {{int 10 99}}}', expect: [200], capture: {}, write: { op: 'update', read: READ, fields: ['/qty'] } },
    { name: 'delete', weight: 1, method: 'DELETE', path: '/items/{{take ids}}', headers, expect: [204], capture: {}, write: { op: 'delete', read: READ } },
  ],
};
const [CREATE, UPDATE, DELETE] = [0, 1, 2];

/** Sends request `op` as the load does and acknowledges a success through the workload. */
async function send(w: Workload, base: string, op: number, atMs: number): Promise<void> {
  const req: HttpRequestSpec = { method: 'GET', path: '', body: undefined, headers: {} };
  const picked = w.fill(req, op);
  // The pool's ids hold "/" and spaces: this service takes them URL-encoded.
  const path = req.path.replace(/^\/items\/(.+)$/, (_, id: string) => `/items/${encodeURIComponent(id)}`);
  const res = await fetch(base + path, {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body as string } : {}),
  });
  const text = await res.text();
  if (w.keepsBody(op, res.status)) w.acknowledge(op, picked ?? null, text, atMs);
}

let service: ItemService;
beforeAll(async () => {
  service = new ItemService();
  await service.start();
});
afterAll(async () => {
  await service?.stop();
});

describe('readBackWrites on a loopback service', () => {
  it('reports creates and updates lost or changed, a delete undone, an entity it cannot read, with reasons', async () => {
    const w = new Workload(PLAN, 7, new Map(), ENV);
    let at = 0;
    for (let i = 0; i < 6; i++) await send(w, service.url, CREATE, (at += 10));
    const ids = w.writes.map((x) => x.key as string);
    expect(ids).toEqual(['o/1 x', 'o/2 x', 'o/3 x', 'o/4 x', 'o/5 x', 'o/6 x']);
    // Update and delete the entities the pool gives them (seeded picks), as the load would.
    await send(w, service.url, UPDATE, (at += 10));
    await send(w, service.url, DELETE, (at += 10));
    const updated = w.writes.find((x) => x.op === 'update') as AcknowledgedWrite;
    const deleted = w.writes.find((x) => x.op === 'delete') as AcknowledgedWrite;
    expect(updated.fields).toEqual({ '/qty': service.items.get(updated.key as string)?.qty });
    expect(deleted.key).not.toBe(updated.key);

    const clean = await readBackWrites(service.url, {}, PLAN, w.writes, { env: ENV });
    expect(clean).toEqual({ acknowledged: 8, checked: 6, lostTotal: 0, lostByOp: { create: 0, update: 0, delete: 0 }, lost: [], unread: 0 });

    // Behind the harness's back: the updated item changed, the deleted one back, and among the
    // untouched creates one gone, one with another customer, one the service cannot serve.
    const [gone, renamed, failing] = ids.filter((id) => id !== updated.key && id !== deleted.key);
    service.items.get(updated.key as string)!.qty = 1000;
    service.items.set(deleted.key as string, { id: deleted.key as string, customer: 'back', qty: 1 });
    service.items.delete(gone as string);
    service.items.get(renamed as string)!.customer = 'someone else';
    service.failing.add(failing as string);
    const report = await readBackWrites(service.url, {}, PLAN, w.writes, { env: ENV });
    expect(report).toMatchObject({ acknowledged: 8, checked: 6, lostTotal: 5, lostByOp: { create: 3, update: 1, delete: 1 }, unread: 0 });
    const path = (id: string | undefined): string => `/items/${encodeURIComponent(id as string)}`;
    expect(new Map(report.lost.map((l) => [l.id, l.reason]))).toEqual(
      new Map([
        [gone, `missing: GET ${path(gone)} answered 404 after the acknowledged create`],
        [renamed, expect.stringMatching(/^changed: \/customer is "someone else", acknowledged "[^"]+" \(the acknowledged create\)$/)],
        [failing, `unverified: GET ${path(failing)} answered 503, expected 200`],
        [updated.key, `changed: /qty is 1000, acknowledged ${String(updated.fields?.['/qty'])} (the acknowledged update)`],
        [deleted.key, `still present: GET ${path(deleted.key)} answered 200 after the acknowledged delete`],
      ]),
    );
    // In the order acknowledged, with the op and time of the decisive write.
    expect(report.lost.map((l) => l.atMs)).toEqual([...report.lost.map((l) => l.atMs)].sort((a, b) => a - b));
    expect(report.lost.find((l) => l.id === deleted.key)).toMatchObject({ op: 'delete', atMs: deleted.atMs });
    service.failing.clear();
  });

  it('reads each entity once, the last acknowledged write deciding (a delete on a tie)', () => {
    const writes: AcknowledgedWrite[] = [
      { op: 'create', id: Number.NaN, key: 'a', atMs: 10, request: 'create', fields: {} },
      { op: 'delete', id: Number.NaN, key: 'a', atMs: 20, request: 'delete' },
      { op: 'update', id: Number.NaN, key: 'a', atMs: 15, request: 'update', fields: {} },
      { op: 'update', id: Number.NaN, key: 'b', atMs: 30, request: 'update', fields: {} },
      { op: 'delete', id: Number.NaN, key: 'b', atMs: 30, request: 'delete' },
      { op: 'update', id: Number.NaN, key: 'b', atMs: 30, request: 'update', fields: {} },
      { op: 'create', id: 5, atMs: 40, request: 'not-read-back' },
    ];
    const decisive = decisiveByPath(PLAN, writes);
    expect([...decisive].map(([path, w]) => [path, w.op, w.atMs])).toEqual([
      ['/items/a', 'delete', 20],
      ['/items/b', 'delete', 30],
    ]);
  });

  it('is bounded: a cap on entities, a per-request timeout, a total time limit', async () => {
    const writes: AcknowledgedWrite[] = Array.from({ length: 20 }, (_, i) => ({ op: 'create', id: Number.NaN, key: `k${i}`, atMs: i, request: 'create', fields: {} }));
    const capped = await readBackWrites(service.url, {}, PLAN, writes, { env: ENV, maxEntities: 5 });
    // Spread over the run: the first and late entities, not only the first five.
    expect(capped).toMatchObject({ checked: 5, unread: 15, lostTotal: 5 });
    expect(capped.lost.map((l) => l.id)).toEqual(['k0', 'k4', 'k8', 'k12', 'k16']);

    service.hang = true;
    try {
      let t0 = Date.now();
      const timedOut = await readBackWrites(service.url, {}, PLAN, writes.slice(0, 3), { env: ENV, timeoutMs: 200, totalMs: 10_000 });
      expect(timedOut).toMatchObject({ checked: 3, lostTotal: 3, unread: 0 });
      for (const l of timedOut.lost) expect(l.reason).toMatch(/^unverified: GET \/items\/k\d failed/);
      expect(Date.now() - t0).toBeLessThan(5_000);

      t0 = Date.now();
      const gets = service.gets;
      const cut = await readBackWrites(service.url, {}, PLAN, writes, { env: ENV, concurrency: 2, timeoutMs: 60_000, totalMs: 500 });
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(cut).toMatchObject({ checked: 0, lostTotal: 0, unread: 20 });
      expect(service.gets - gets).toBeLessThanOrEqual(2); // at most one per connection, then the time limit
    } finally {
      service.hang = false;
    }
  });

  it('sends nothing to a host that is not loopback and not allowed', async () => {
    const writes: AcknowledgedWrite[] = [{ op: 'create', id: 1, key: '1', atMs: 1, request: 'create', fields: {} }];
    await expect(readBackWrites('http://example.com', {}, PLAN, writes, { env: ENV })).rejects.toBeInstanceOf(HostNotAllowedError);
    // Nothing to read: nothing checked, no connection needed.
    expect(await readBackWrites('http://example.com', {}, PLAN, [], { env: ENV })).toMatchObject({ checked: 0, acknowledged: 0 });
  });
});

describe('a Game Day on spec.target with writes read back', () => {
  it('counts the creates the service acknowledged and forgot, and fails the durability check', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-read-back-'));
    service.forgetEvery = 4;
    try {
      const text = `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: forgetful }
spec:
  duration: 3s
  warmup: 1s
  target: { url: "${service.url}" }
  load: { model: open, rate: 40 }
  workload:
    requests:
      - name: create
        method: POST
        path: /items
        headers: { content-type: application/json, authorization: "Bearer ${TOKEN}" }
        body: '{"customer": {{json (faker "person.fullName")}}, "qty": {{int 1 9}}}'
        expect: { status: [201] }
        write: { op: create, id: /id, read: "/items/{id}", fields: [customer, qty] }
  checks:
    - { id: DUR, name: every acknowledged create read back, metric: durability.lostWrites, target: "== 0" }
`;
      const { plan, problems } = planFromText(text, { env: {} });
      expect(problems).toBeUndefined();
      const run = await runGameDay(plan!, { outDir: out, signal: new AbortController().signal });
      expect(run.error?.message).toBeUndefined();
      expect(run.status).toBe('completed');
      const r = buildResult(plan!, run.analysis!, run.status, {}, run.load);
      const acked = run.load!.acknowledgedWrites.length;
      expect(acked).toBeGreaterThan(40);
      expect(service.forgotten).toBeGreaterThan(5);
      expect(r.durability).toMatchObject({ acknowledged: acked, checked: acked, lostWrites: service.forgotten, lostByOp: { create: service.forgotten, update: 0, delete: 0 } });
      for (const l of r.durability!.lost) expect(l.reason).toMatch(/^missing: GET \/items\/o%2F\d+%20x answered 404 after the acknowledged create$/);
      expect(r.checks.map((c) => [c.id, c.actual, c.passed])).toEqual([['DUR', service.forgotten, false]]);
      expect(r.journal.find((e) => e.type === 'durability.verified')?.detail).toEqual({ by: 'read-back', checked: acked, lost: service.forgotten, unread: 0 });
    } finally {
      service.forgetEvery = 0;
      rmSync(out, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('readBackWrites against kv-api', () => {
  let kv: ChildProcess | undefined;
  let url = '';
  beforeAll(async () => {
    const main = fileURLToPath(new URL('../../fixtures/kv-api/main.mjs', import.meta.url));
    kv = spawn(process.execPath, [main], { env: { ...process.env, PORT: '0', API_TOKEN: TOKEN, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: kv.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('kv-api did not start in 10 s')), 10_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
      kv!.once('exit', (code) => reject(new Error(`kv-api exited ${code}`)));
    });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (kv && kv.exitCode === null) {
      const exited = new Promise((resolve) => kv!.once('exit', resolve));
      kv.kill('SIGKILL');
      await exited;
    }
  });

  it('reports a put deleted and a put replaced behind the harness\'s back', async () => {
    // The shipped scenario's put-item, with its read-back (scenarios/kv-api.yaml).
    const plan: WorkloadPlan = {
      pools: [{ name: 'keys', capacity: 100 }],
      requests: [
        {
          name: 'put-item',
          weight: 1,
          method: 'PUT',
          path: '/v1/items/order-{{uuid}}',
          headers: { 'content-type': 'application/json', authorization: 'Bearer {{env TOKEN}}' },
          body: '{"customer": {{json (faker "person.fullName")}}, "qty": {{int 1 9}}}',
          expect: [201],
          capture: { keys: '/key' },
          write: { op: 'create', idPointer: '/key', read: '/v1/items/{id}', fields: ['/value', '/version'] },
        },
      ],
    };
    const w = new Workload(plan, 3, new Map(), ENV);
    for (let i = 0; i < 5; i++) await send(w, url, 0, i * 10);
    expect(w.writes).toHaveLength(5);
    expect(await readBackWrites(url, {}, plan, w.writes, { env: ENV })).toMatchObject({ checked: 5, lostTotal: 0 });

    const [deleted, replaced] = w.writes.map((x) => x.key as string);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${url}/v1/items/${deleted}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    const put = await fetch(`${url}/v1/items/${replaced}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"customer": "other", "qty": 1}' });
    expect(put.status).toBe(200);
    const report = await readBackWrites(url, {}, plan, w.writes, { env: ENV });
    expect(report).toMatchObject({ acknowledged: 5, checked: 5, lostTotal: 2, lostByOp: { create: 2, update: 0, delete: 0 } });
    expect(report.lost).toEqual([
      { op: 'create', id: deleted, atMs: 0, reason: `missing: GET /v1/items/${deleted} answered 404 after the acknowledged create` },
      { op: 'create', id: replaced, atMs: 10, reason: expect.stringMatching(/^changed: \/value is \{"customer":"other","qty":1\}, acknowledged \{"customer":"[^"]+","qty":\d\}; \/version is 2, acknowledged 1 \(the acknowledged create\)$/) },
    ]);
  });
});

describe('write.read and write.fields in a scenario', () => {
  const scenario = (requests: string, checks = ''): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: items }
spec:
  duration: 30s
  target: { url: "http://127.0.0.1:8080" }
  load: { model: open, rate: 50 }
  workload:
    pools: { ids: { values: [a, b] } }
    requests:
${requests
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
  checks:
    - { id: P95, name: p95, metric: latency.p95, target: "< 500ms" }
${checks}`;
  const problems = (text: string): string[] => (planFromText(text, { env: { TOKEN }, file: '/tmp/x.yaml' }).problems ?? []).map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
  const DUR = '    - { id: DUR, name: durability, metric: durability.lostWrites, target: "== 0" }';

  it('becomes a plan: names as JSON Pointers; a durability check with a target', () => {
    const text = scenario(
      `- { name: create, method: POST, path: /items, body: "{}", expect: { status: [201] }, write: { op: create, id: /id, read: "/items/{id}", fields: [customer, /value/qty, "a/b"] } }
- { name: delete, method: DELETE, path: "/items/{{take ids}}", headers: { authorization: "Bearer {{env TOKEN}}" }, expect: { status: [204] }, write: { op: delete, read: "/items/{id}" } }`,
      DUR,
    );
    const r = planFromText(text, { env: { TOKEN }, file: '/tmp/x.yaml' });
    expect(r.problems).toBeUndefined();
    expect(r.plan!.load.workload.requests.map((q) => q.write)).toEqual([
      { op: 'create', idPointer: '/id', read: '/items/{id}', fields: ['/customer', '/value/qty', '/a~1b'] },
      { op: 'delete', read: '/items/{id}' },
    ]);
  });

  it('refuses a read path without {id} or "/", fields without read or on a delete, a write with no body to read, an entity it cannot name', () => {
    expect(
      problems(
        scenario(`- { name: a, method: POST, path: /items, expect: { status: [201] }, write: { op: create, id: /id, read: "items/{id}" } }
- { name: b, method: POST, path: /items, write: { op: create, id: /id, read: "/items/{key}" } }
- { name: c, method: PUT, path: /items/x, write: { op: update, fields: [qty] } }
- { name: d, method: DELETE, path: "/items/{{take ids}}", write: { op: delete, read: "/items/{id}", fields: [qty] } }
- { name: e, method: POST, path: /items, expect: { status: [204] }, write: { op: create, id: /id, read: "/items/{id}" } }
- { name: f, method: PUT, path: /items/x, headers: { x-id: "{{pick ids}}" }, write: { op: update, read: "/items/{id}", fields: ["/a/*"] } }`),
      ),
    ).toEqual([
      'spec.workload.requests[0].write.read: expected a path starting with "/", found "items/{id}"',
      'spec.workload.requests[1].write.read: expected a path with {id} where the entity\'s id goes (e.g. "/v1/items/{id}"), found "/items/{key}"',
      'spec.workload.requests[2].write.read: expected the path that reads the entity back (e.g. "/v1/items/{id}") with write.fields, found nothing',
      'spec.workload.requests[3].write.fields: expected no fields on a delete (its entity must be gone: 404 or 410), found qty',
      'spec.workload.requests[4].write: expected a write read back from a request whose success has a body (not HEAD, not only 204/304): its id and fields come from it, found POST expecting 204',
      'spec.workload.requests[5].write.id: expected the entity of an update: a path that picks its id from a pool ({{pick pool}} or {{take pool}}), or write.id, found "/items/x"',
      'spec.workload.requests[5].headers.x-id: expected no pick or take in the headers of a write read back (they are sent again to read it), found {{pick …}}',
      'spec.workload.requests[5].write.fields[0]: expected a JSON Pointer to one field (no "*"), found "/a/*"',
    ]);
  });

  it('takes durability.lostWrites on spec.target only when a request reads its writes back', () => {
    const plain = '- { name: create, method: POST, path: /items, body: "{}", expect: { status: [201] }, write: { op: create, id: /id } }';
    expect(problems(scenario(plain, DUR))).toEqual([
      'spec.checks[1].metric: expected durability.lostWrites only with a platform that owns the database (spec.target has none), or with a request that reads its writes back (write.read), found durability.lostWrites',
    ]);
    expect(problems(scenario(plain.replace('id: /id }', 'id: /id, read: "/items/{id}" }'), DUR))).toEqual([]);
  });
});
