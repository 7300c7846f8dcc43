import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { assertLoopback } from '../../harness/load/index.js';
import { discover } from '../../harness/load/pools.js';
import { kindOfError } from '../../harness/load/transport-errors.js';
import { startTaskServer, type TaskServer } from './task-server.js';

let server: TaskServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('loopback only', () => {
  it.each(['http://127.0.0.1:3000', 'http://127.5.6.7', 'http://localhost:8080/x', 'http://[::1]:80', 'http://LOCALHOST', 'https://127.0.0.1'])('accepts %s', (url) => {
    expect(() => assertLoopback(url)).not.toThrow();
  });

  it.each(['http://10.0.0.1', 'http://128.0.0.1', 'http://example.com', 'http://localhost.example.com', 'http://[::2]', 'ftp://127.0.0.1', 'nonsense'])(
    'refuses %s',
    (url) => {
      expect(() => assertLoopback(url)).toThrow(/load target/);
    },
  );
});

describe('transport error kinds', () => {
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  it('maps socket and undici codes', () => {
    expect(kindOfError(err('ECONNREFUSED'))).toBe('refused');
    expect(kindOfError(new AggregateError([err('ECONNREFUSED')]))).toBe('refused');
    expect(kindOfError(err('ECONNRESET'))).toBe('reset');
    expect(kindOfError(err('EPIPE'))).toBe('reset');
    expect(kindOfError(err('UND_ERR_SOCKET'))).toBe('closed');
    expect(kindOfError(err('UND_ERR_HEADERS_TIMEOUT'))).toBe('timeout');
    expect(kindOfError(err('UND_ERR_BODY_TIMEOUT'))).toBe('timeout');
    expect(kindOfError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(kindOfError(err('EHOSTUNREACH'))).toBe('other');
    expect(kindOfError('weird')).toBe('other');
  });
});

describe('discover (a pool from a paged list)', () => {
  const taskPages = { path: '/tasks?limit=100', items: '/items/*/id', next: '/next_cursor', cursorParam: 'cursor', max: 100_000 };

  it('pages through the list up to max values, following the cursor', async () => {
    server = await startTaskServer({}, 250);
    expect(await discover(server.url, 'taskIds', taskPages, 230)).toEqual(Array.from({ length: 230 }, (_, i) => String(i + 1)));
    expect(await discover(server.url, 'taskIds', taskPages, 10_000)).toHaveLength(250);
    expect(server.stats.log.filter((l) => l.startsWith('GET /tasks?'))).toHaveLength(6);
  });

  it('fails clearly on a broken list', async () => {
    server = await startTaskServer({ status503Every: 1 });
    await expect(discover(server.url, 'taskIds', taskPages, 10)).rejects.toThrow(/pool taskIds: GET \/tasks\?limit=100 answered 503/);
  });

  it('sends its headers, env templates rendered, on every page', async () => {
    const seen: Array<string | undefined> = [];
    const srv = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer k3y') return void res.writeHead(401).end();
      const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after') ?? 0);
      res.end(JSON.stringify({ items: [{ key: `k${after}` }, { key: `k${after + 1}` }], next: after < 2 ? String(after + 2) : null }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const source = { path: '/v1/items?limit=2', items: '/items/*/key', next: '/next', cursorParam: 'after', max: 100, headers: { authorization: 'Bearer {{env KV_TOKEN}}' } };
      expect(await discover(url, 'keys', source, 100, {}, { KV_TOKEN: 'k3y' })).toEqual(['k0', 'k1', 'k2', 'k3']);
      expect(seen).toEqual(['Bearer k3y', 'Bearer k3y']);
      await expect(discover(url, 'keys', source, 100, {}, {})).rejects.toThrow(/answered 401/);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('refuses a non-loopback target', async () => {
    await expect(discover('http://192.168.1.1', 'taskIds', taskPages, 10)).rejects.toThrow(/not loopback/);
  });
});
