import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../fixtures/task-api/task.js';
import { call, metricValue } from './http.js';
import { startTestPostgres, type TestPostgres } from './pg.js';
import { killAllTaskApis, runTaskApi, startReplica, type Replica } from './replica.js';

interface Page {
  items: Task[];
  next_cursor: string | null;
}

interface ErrorBody {
  error: string;
  field?: string;
  id?: number;
}

const SEED_ROWS = 10_000;

let postgres: TestPostgres;
let databaseUrl: string;
let replica: Replica;
let seedElapsedMs: number;
let seedStdout: string;

const get = <T = unknown>(path: string) => call<T>(replica.url, 'GET', path);
const send = <T = unknown>(method: string, path: string, json: unknown) => call<T>(replica.url, method, path, { json });

beforeAll(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.createDatabase('api');
  const seeded = await runTaskApi('seed', { DATABASE_URL: databaseUrl });
  expect(seeded.code, seeded.stderr).toBe(0);
  seedElapsedMs = seeded.elapsedMs;
  seedStdout = seeded.stdout;
  replica = await startReplica({ DATABASE_URL: databaseUrl, REPLICA_NAME: 'api-test' });
});

afterAll(async () => {
  await killAllTaskApis();
  await postgres?.stop();
});

describe('seed', () => {
  it('prints its one contract line and is fast', () => {
    const lines = seedStdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ event: 'seeded', rows: SEED_ROWS, ids: { min: 1, max: SEED_ROWS }, inserted: SEED_ROWS });
    console.log(`seed of ${SEED_ROWS} rows, spawn to exit: ${Math.round(seedElapsedMs)} ms`);
    // Process start (tsx, faker) included; the inserts themselves take a fraction of this.
    expect(seedElapsedMs).toBeLessThan(5_000);
  });
});

describe('tasks CRUD', () => {
  it('reads a seeded task with every field, ids as numbers', async () => {
    const { status, body } = await get<Task>('/tasks/1');
    expect(status).toBe(200);
    expect(body.id).toBe(1);
    expect(typeof body.title).toBe('string');
    expect(['pending', 'in_progress', 'done']).toContain(body.status);
    expect(body.priority).toBeGreaterThanOrEqual(1);
    expect(Object.keys(body).sort()).toEqual(
      ['created_at', 'description', 'due_date', 'id', 'priority', 'status', 'title', 'updated_at'],
    );
    expect(Number.isNaN(Date.parse(body.created_at))).toBe(false);
  });

  it('creates, reads, updates and deletes a task', async () => {
    const input = { title: 'Write the runbook', description: 'for the pool', status: 'in_progress', priority: 5, due_date: '2030-01-02T03:04:05+02:00' };
    const created = await send<Task>('POST', '/tasks', input);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...input, due_date: '2030-01-02T01:04:05.000Z' });
    expect(created.body.id).toBeGreaterThan(SEED_ROWS);
    const id = created.body.id;

    expect((await get<Task>(`/tasks/${id}`)).body).toEqual(created.body);

    const patched = await send<Task>('PATCH', `/tasks/${id}`, { status: 'done', due_date: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, title: input.title, priority: 5, status: 'done', due_date: null });
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThan(Date.parse(created.body.updated_at));
    expect(patched.body.created_at).toBe(created.body.created_at);

    expect((await call(replica.url, 'DELETE', `/tasks/${id}`)).status).toBe(204);
    for (const method of ['GET', 'DELETE']) {
      const gone = await call<ErrorBody>(replica.url, method, `/tasks/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ error: 'not_found', id });
    }
    expect((await send('PATCH', `/tasks/${id}`, { title: 'x' })).status).toBe(404);
  });

  it('fills defaults and accepts boundary values', async () => {
    const minimal = await send<Task>('POST', '/tasks', { title: 'x' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toMatchObject({ title: 'x', description: null, status: 'pending', priority: 3, due_date: null });
    const widest = { title: '😀'.repeat(200), description: 'd'.repeat(10_000), priority: 1 };
    const boundary = await call<Task>(replica.url, 'POST', '/tasks', { raw: JSON.stringify(widest), contentType: 'application/json; charset=utf-8' });
    expect(boundary.status).toBe(201);
    expect(boundary.body.title).toBe(widest.title);
  });
});

describe('bad input is a 4xx naming the field, never a 500', () => {
  const badBodies: Array<[string, unknown, string]> = [
    ['missing title', { priority: 2 }, 'title'],
    ['empty title', { title: '' }, 'title'],
    ['blank title', { title: '   ' }, 'title'],
    ['long title', { title: 'a'.repeat(201) }, 'title'],
    ['numeric title', { title: 5 }, 'title'],
    ['NUL in title', { title: 'a\u0000b' }, 'title'],
    ['long description', { title: 'ok', description: 'a'.repeat(10_001) }, 'description'],
    ['unknown status', { title: 'ok', status: 'blocked' }, 'status'],
    ['priority 0', { title: 'ok', priority: 0 }, 'priority'],
    ['priority 6', { title: 'ok', priority: 6 }, 'priority'],
    ['fractional priority', { title: 'ok', priority: 2.5 }, 'priority'],
    ['priority as a string', { title: 'ok', priority: '3' }, 'priority'],
    ['due_date in words', { title: 'ok', due_date: 'tomorrow' }, 'due_date'],
    ['due_date that does not exist', { title: 'ok', due_date: '2025-02-30T00:00:00Z' }, 'due_date'],
    ['due_date without offset', { title: 'ok', due_date: '2025-01-01T00:00:00' }, 'due_date'],
    ['due_date as a number', { title: 'ok', due_date: 1_700_000_000 }, 'due_date'],
    ['unknown key', { title: 'ok', owner: 'me' }, 'owner'],
    ['id in the body', { title: 'ok', id: 7 }, 'id'],
    ['a JSON array', [{ title: 'ok' }], 'body'],
    ['a JSON string', 'ok', 'body'],
    ['JSON null', null, 'body'],
  ];

  it.each(badBodies)('POST with %s', async (_name, body, field) => {
    const response = await send<ErrorBody>('POST', '/tasks', body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field });
  });

  it.each([
    ['no fields', {}, 'body'],
    ['null title', { title: null }, 'title'],
    ['null status', { status: null }, 'status'],
    ['created_at', { created_at: '2025-01-01T00:00:00Z' }, 'created_at'],
    ['__proto__', JSON.parse('{"__proto__": {"status": "done"}}'), '__proto__'],
  ])('PATCH with %s', async (_name, body, field) => {
    const response = await send<ErrorBody>('PATCH', '/tasks/1', body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field });
  });

  it.each(['abc', '-1', '1.5', '1e3', '99999999999999999'])('id %s is a 400 on every method', async (id) => {
    for (const [method, json] of [['GET', undefined], ['PATCH', { title: 'x' }], ['DELETE', undefined]] as const) {
      const response = await call<ErrorBody>(replica.url, method, `/tasks/${id}`, { json });
      expect(response.status, `${method} /tasks/${id}`).toBe(400);
      expect(response.body).toMatchObject({ error: 'validation', field: 'id' });
    }
    expect((await get('/tasks/0')).status).toBe(404);
  });

  it('rejects framing problems: malformed JSON, wrong content type, bodies over 64 KiB, bad URLs', async () => {
    const malformed = await call<ErrorBody>(replica.url, 'POST', '/tasks', { raw: '{"title": "x"', contentType: 'application/json' });
    expect([malformed.status, malformed.body.error]).toEqual([400, 'malformed_json']);
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await call<ErrorBody>(replica.url, 'POST', '/tasks', { raw: '{"title":"x"}', contentType });
      expect([response.status, response.body.error], contentType).toEqual([415, 'unsupported_media_type']);
    }
    const oversize = await send<ErrorBody>('POST', '/tasks', { title: 'x', description: 'a'.repeat(70_000) });
    expect([oversize.status, oversize.body.error]).toEqual([413, 'payload_too_large']);
    const empty = await call<ErrorBody>(replica.url, 'POST', '/tasks', { contentType: 'application/json' });
    expect([empty.status, empty.body.field]).toEqual([400, 'body']);
    const badUrl = await get<ErrorBody>('/tasks/%zz');
    expect([badUrl.status, badUrl.body.error]).toEqual([400, 'validation']);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=zzz', 'cursor'],
    [`cursor=${Buffer.from('after:abc').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('after:5').toString('base64url')}=`, 'cursor'],
    ['status=blocked', 'status'],
    ['page=2', 'page'],
  ])('GET /tasks?%s is a 400', async (query, field) => {
    const response = await get<ErrorBody>(`/tasks?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field });
  });

  it('unknown routes are JSON 404s', async () => {
    const response = await get<ErrorBody>('/nope');
    expect([response.status, response.body.error]).toEqual([404, 'not_found']);
  });
});

describe('what it returns, it accepts back', () => {
  const post = (due_date: unknown) => send<Task & ErrorBody>('POST', '/tasks', { title: 'dated', due_date });

  it.each([
    ['the earliest instant', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['the earliest instant, written west of UTC', '0000-12-31T23:00:00-01:00', undefined],
    ['the earliest instant, written east of UTC', '0001-01-01T14:00:00+14:00', '0001-01-01T00:00:00.000Z'],
    ['the latest instant', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['the latest instant, written east of UTC', '9999-12-31T09:59:59.999-14:00', '9999-12-31T23:59:59.999Z'],
    ['a leap day in year 4', '0004-02-29T12:00:00.5+00:30', '0004-02-29T11:30:00.500Z'],
  ])('%s: POST, then PATCH and GET with the value it returned', async (_name, sent, returned) => {
    const created = await post(sent);
    if (returned === undefined) {
      // Year 0000 is not a valid RFC 3339 date (this module rejects it before any offset is applied).
      expect([created.status, created.body.field]).toEqual([400, 'due_date']);
      return;
    }
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.due_date).toBe(returned);
    const id = created.body.id;
    for (const field of ['due_date', 'created_at', 'updated_at'] as const) {
      const patched = await send<Task>('PATCH', `/tasks/${id}`, { due_date: created.body[field] });
      expect(patched.status, `PATCH due_date = ${field} ${created.body[field]}`).toBe(200);
      expect(patched.body.due_date).toBe(created.body[field]);
    }
    const back = await send<Task>('PATCH', `/tasks/${id}`, { due_date: returned });
    expect([back.status, back.body.due_date]).toEqual([200, returned]);
    expect((await get<Task>(`/tasks/${id}`)).body.due_date).toBe(returned);
  });

  it('every extreme it accepts comes back in a form it accepts again', async () => {
    const offsets = ['Z', '+14:00', '-14:00', '+00:01', '-00:01'];
    const extremes = ['0001-01-01T00:00:00', '0001-01-01T23:59:59.999', '9999-12-31T00:00:00', '9999-12-31T23:59:59.999'];
    let accepted = 0;
    for (const sent of extremes.flatMap((d) => offsets.map((o) => `${d}${o}`))) {
      const created = await post(sent);
      if (created.status === 400) continue;
      accepted += 1;
      expect(created.status, sent).toBe(201);
      const again = await send<Task>('PATCH', `/tasks/${created.body.id}`, { due_date: created.body.due_date });
      expect([again.status, again.body.due_date], `${sent} came back as ${created.body.due_date}`).toEqual([200, created.body.due_date]);
    }
    expect(accepted).toBeGreaterThanOrEqual(12);
  });

  it.each([
    ['year 0000 in UTC', '0001-01-01T00:00:00+14:00', '0000-12-31T10:00:00.000Z'],
    ['year 10000 in UTC', '9999-12-31T23:59:59-12:00', '+010000-01-01T11:59:59.000Z'],
    ['microseconds it would not return', '2025-01-31T09:00:00.123456Z', '6 fractional digits'],
  ])('rejects %s with a precise 400 (it could not give it back as sent)', async (_name, sent, mentioned) => {
    const response = await post(sent);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field: 'due_date', message: expect.stringContaining(mentioned) });
  });
});

describe('what it cannot store faithfully is a 400, never silently changed', () => {
  const postRaw = (raw: string | Uint8Array, contentType = 'application/json') =>
    call<Task & ErrorBody & { message: string }>(replica.url, 'POST', '/tasks', { raw, contentType });

  it.each([
    ['a lone high surrogate in the title', '{"title":"a\\ud800b"}', 'title', '\\ud800 at index 1'],
    ['a lone low surrogate in the description', '{"title":"ok","description":"\\udc00"}', 'description', '\\udc00 at index 0'],
    ['a reversed pair in the title', '{"title":"\\ude00\\ud83d"}', 'title', '\\ude00 at index 0'],
  ])('%s', async (_name, raw, field, mentioned) => {
    const response = await postRaw(raw);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field, message: expect.stringContaining(mentioned) });
  });

  it('keeps a surrogate pair (an emoji written as JSON escapes) exactly', async () => {
    const response = await postRaw('{"title":"\\ud83d\\ude00 done"}');
    expect([response.status, response.body.title]).toEqual([201, '😀 done']);
  });

  it.each(['latin1', 'ISO-8859-1', '"windows-1252"', 'utf-16'])('rejects charset=%s with a 400 naming content-type', async (charset) => {
    const response = await postRaw(Buffer.from('{"title":"café"}', 'latin1'), `application/json; charset=${charset}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'validation', field: 'content-type', message: expect.stringContaining(charset.replaceAll('"', '')) });
  });

  it('rejects bytes that are not UTF-8 even without a charset', async () => {
    const response = await postRaw(Buffer.from('{"title":"café"}', 'latin1'));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'malformed_json', message: expect.stringContaining('UTF-8') });
  });

  it.each(['utf-8', 'UTF-8', '"utf-8"', 'utf8'])('accepts charset=%s and keeps every character', async (charset) => {
    const title = 'café 😀 Ω';
    const response = await postRaw(Buffer.from(JSON.stringify({ title }), 'utf8'), `application/json; charset=${charset}`);
    expect([response.status, response.body.title]).toEqual([201, title]);
  });
});

describe('keyset pagination', () => {
  async function walk(query: string, limit: number): Promise<number[]> {
    const ids: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1_000; page += 1) {
      const suffix: string = cursor === null ? '' : `&cursor=${cursor}`;
      const response = await get<Page>(`/tasks?limit=${limit}${query}${suffix}`);
      expect(response.status).toBe(200);
      expect(response.body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...response.body.items.map((t) => t.id));
      cursor = response.body.next_cursor;
      if (cursor === null) return ids;
    }
    throw new Error('pagination did not end');
  }

  async function idsInDatabase(where: string, values: unknown[]): Promise<number[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM tasks ${where} ORDER BY id`, values);
      return rows.map((r) => Number(r.id));
    } finally {
      await client.end();
    }
  }

  it('walks every row exactly once, in id order', async () => {
    const ids = await walk('', 100);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toEqual(await idsInDatabase('', []));
    expect(ids.slice(0, SEED_ROWS)).toEqual(Array.from({ length: SEED_ROWS }, (_, i) => i + 1));
  });

  it('defaults to 20 items and filters by status across pages', async () => {
    const first = await get<Page>('/tasks');
    expect(first.body.items).toHaveLength(20);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const done = await walk('&status=done', 97);
    expect(done).toEqual(await idsInDatabase('WHERE status = $1', ['done']));
    for (const task of (await get<Page>('/tasks?status=done&limit=100')).body.items) expect(task.status).toBe('done');
  });
});

describe('metrics', () => {
  const series = (method: string, route: string, status: number) =>
    `task_api_requests_total{method="${method}",route="${route}",status="${status}"}`;

  it('counts requests by route pattern, and exposes the documented names', async () => {
    const before = (await get('/metrics')).text;
    await get('/tasks/2');
    await get('/tasks/3');
    await get('/tasks/987654321');
    await get('/no/such/route');
    const after = await get('/metrics');
    expect(after.headers.get('content-type')).toContain('text/plain');
    const delta = (s: string) => (metricValue(after.text, s) ?? 0) - (metricValue(before, s) ?? 0);
    expect(delta(series('GET', '/tasks/:id', 200))).toBe(2);
    expect(delta(series('GET', '/tasks/:id', 404))).toBe(1);
    expect(delta(series('GET', 'unmatched', 404))).toBe(1);
    expect(delta(series('GET', '/metrics', 200))).toBe(1);
    expect(after.text).not.toContain('route="/tasks/2"');
    const histogram = 'task_api_request_duration_seconds_bucket{le="0.001",method="GET",route="/tasks/:id"}';
    expect(metricValue(after.text, histogram)).toEqual(expect.any(Number));
    for (const name of ['db_pool_total', 'db_pool_active', 'db_pool_idle', 'db_pool_wait_count', 'process_resident_memory_bytes', 'process_open_fds']) {
      expect(metricValue(after.text, name), name).toEqual(expect.any(Number));
    }
    expect(metricValue(after.text, 'db_pool_total')).toBeGreaterThanOrEqual(1);
    expect(after.text).toContain('le="10"');
  });

  it('no request in this file was answered with a 500', async () => {
    const { text } = await get('/metrics');
    expect(text).not.toMatch(/status="5\d\d"/);
    expect(replica.stderr()).not.toContain('unexpected_error');
  });
});
