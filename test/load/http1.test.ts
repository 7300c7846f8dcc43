import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1Pool, RequestAbortedError, leanConnector, type Http1Handler } from '../../harness/load/http1.js';
import { kindOfError } from '../../harness/load/transport-errors.js';
import { connectOptions, openConnections } from '../../harness/load/warm.js';
import type { HttpRequestSpec } from '../../harness/load/workload.js';

/** What one request was told, as a promise. */
class Probe implements Http1Handler {
  slot: object | number | null = null;
  status = 0;
  body: Buffer[] = [];
  error: Error | undefined;
  calls = 0;
  readonly done: Promise<this>;
  private resolve!: () => void;
  constructor(
    readonly spec: HttpRequestSpec,
    private readonly keep = true,
  ) {
    this.done = new Promise<void>((r) => (this.resolve = r)).then(() => this);
  }
  onHeaders(status: number): boolean {
    this.status = status;
    return this.keep;
  }
  onData(chunk: Buffer): void {
    // Kept as given, as the open model keeps it: the client must hand over chunks that stay valid.
    this.body.push(chunk);
  }
  onComplete(): void {
    this.calls++;
    this.resolve();
  }
  onError(err: Error): void {
    this.calls++;
    this.error = err;
    this.resolve();
  }
  text(): string {
    return Buffer.concat(this.body).toString('utf8');
  }
}

const get = (path: string, keep = true): Probe => new Probe({ method: 'GET', path, body: undefined, headers: {} }, keep);

function pool(url: string, connections = 2): Http1Pool {
  const parsed = new URL(url);
  return new Http1Pool({ connections, host: parsed.host, connect: leanConnector({}, 2_000), connectOptions: connectOptions(parsed) });
}

/** At most 2 s: the outcome of a request that should come promptly. */
async function outcome(p: Probe): Promise<Probe> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no outcome for ${p.spec.path}`)), 2_000)));
  try {
    return await Promise.race([p.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

const listen = async <S extends HttpServer | NetServer>(s: S): Promise<string> => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

const BIG = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));

// A node:http server whose routes are the cases; it counts connections.
let http: HttpServer;
let httpUrl = '';
let httpConnections = 0;
const httpSockets = new Set<Socket>();
// A raw server: each request's bytes are recorded, and the path picks a raw answer.
let raw: NetServer;
let rawUrl = '';
const rawRequests: string[] = [];

beforeAll(async () => {
  http = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one,');
        setTimeout(() => res.end('two'), 5);
      } else if (url === '/empty') {
        res.writeHead(204).end();
      } else if (url === '/close') {
        res.writeHead(200, { connection: 'close' }).end('bye');
      } else if (url.startsWith('/status/')) {
        res.writeHead(Number(url.slice(8))).end(`status ${url.slice(8)}`);
      } else if (url === '/slow') {
        setTimeout(() => res.end('slow'), 400);
      } else if (url === '/big') {
        // Larger than a read: its body spans many reads into the reused buffer.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 10; i++) res.write(BIG.subarray(i * 30_000, (i + 1) * 30_000));
        res.end();
      } else if (url === '/echo') {
        res.end(Buffer.concat(chunks));
      } else res.end(`{"path":"${url}"}`);
    });
  });
  http.keepAliveTimeout = 200;
  http.on('connection', (s: Socket) => {
    httpConnections++;
    httpSockets.add(s);
    s.on('close', () => httpSockets.delete(s));
  });
  httpUrl = await listen(http);

  raw = createNetServer((s) => {
    s.on('error', () => undefined);
    let seen = '';
    s.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(seen)?.[1] ?? 0);
      if (seen.length < end + 4 + length) return;
      const request = seen;
      seen = '';
      rawRequests.push(request);
      const path = request.split(' ')[1];
      if (path === '/until-close') s.end('HTTP/1.1 200 OK\r\n\r\nread to the end');
      else if (path === '/reset-mid') (s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart'), setTimeout(() => s.resetAndDestroy(), 20));
      else if (path === '/fin-mid') (s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart'), setTimeout(() => s.end(), 20));
      else if (path === '/continue') s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else if (path === '/garbage') s.write('NOT HTTP AT ALL\r\n\r\n');
      else s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  rawUrl = await listen(raw);
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await new Promise<void>((resolve) => raw.close(() => resolve()));
});

describe('lean HTTP/1.1 client: responses', () => {
  it('reads statuses and Content-Length bodies over keep-alive connections, never more than `connections`', async () => {
    const before = httpConnections;
    const p = pool(httpUrl, 2);
    try {
      const probes = [200, 201, 404, 503].flatMap((s) => [get(`/status/${s}`), get(`/status/${s}`)]);
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => r.status)).toEqual([200, 200, 201, 201, 404, 404, 503, 503]);
      expect(probes.map((r) => r.text())).toEqual(probes.map((r) => `status ${r.status}`));
      expect(probes.every((r) => r.error === undefined && r.calls === 1)).toBe(true);
      expect(httpConnections - before).toBe(2);
    } finally {
      p.destroy();
    }
  });

  it('reads chunked bodies, and a 204 without a body keeps its connection', async () => {
    const before = httpConnections;
    const p = pool(httpUrl, 1);
    try {
      const probes = [get('/chunked'), get('/empty'), get('/chunked'), get('/empty')];
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => [r.status, r.text(), r.error])).toEqual([
        [200, 'one,two', undefined],
        [204, '', undefined],
        [200, 'one,two', undefined],
        [204, '', undefined],
      ]);
      expect(httpConnections - before).toBe(1);
    } finally {
      p.destroy();
    }
  });

  it('the answer to a HEAD has no body, whatever its Content-Length, and its connection carries on', async () => {
    const before = httpConnections;
    const p = pool(httpUrl, 1);
    try {
      const head = new Probe({ method: 'HEAD', path: '/status/200', body: undefined, headers: {} });
      const after = get('/status/201');
      p.dispatch(head);
      p.dispatch(after);
      await Promise.all([head, after].map(outcome));
      expect([head.status, head.text(), head.error]).toEqual([200, '', undefined]);
      expect([after.status, after.text(), after.error]).toEqual([201, 'status 201', undefined]);
      expect(httpConnections - before).toBe(1);
    } finally {
      p.destroy();
    }
  });

  it('hands the body over only when the handler asks for it', async () => {
    const p = pool(httpUrl, 1);
    try {
      const skipped = get('/chunked', false);
      p.dispatch(skipped);
      await outcome(skipped);
      expect([skipped.status, skipped.body, skipped.error]).toEqual([200, [], undefined]);
    } finally {
      p.destroy();
    }
  });

  it('kept bodies stay intact across reads (the read buffer is reused)', async () => {
    const p = pool(httpUrl, 2);
    try {
      const probes = [get('/big'), get('/big'), get('/chunked'), get('/big')];
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined]);
      for (const r of [probes[0], probes[1], probes[3]] as Probe[]) expect(Buffer.concat(r.body).equals(BIG)).toBe(true);
      expect((probes[2] as Probe).text()).toBe('one,two');
    } finally {
      p.destroy();
    }
  });

  it('a response read to the end of the connection, and an interim 100 before the answer', async () => {
    const p = pool(rawUrl, 1);
    try {
      const untilClose = get('/until-close');
      p.dispatch(untilClose);
      await outcome(untilClose);
      expect([untilClose.status, untilClose.text(), untilClose.error]).toEqual([200, 'read to the end', undefined]);
      const cont = get('/continue');
      p.dispatch(cont);
      await outcome(cont);
      expect([cont.status, cont.text(), cont.calls]).toEqual([200, 'ok', 1]);
    } finally {
      p.destroy();
    }
  });
});

describe('lean HTTP/1.1 client: connections', () => {
  it('`connection: close` from the server: the answer counts, the next request gets a new connection', async () => {
    const before = httpConnections;
    const p = pool(httpUrl, 1);
    try {
      const probes = [get('/close'), get('/close'), get('/status/200')];
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => [r.status, r.error])).toEqual([
        [200, undefined],
        [200, undefined],
        [200, undefined],
      ]);
      expect(httpConnections - before).toBe(3);
    } finally {
      p.destroy();
    }
  });

  it('a keep-alive connection the server closed while idle is replaced, no request lost', async () => {
    const p = pool(httpUrl, 1);
    try {
      const first = get('/status/200');
      p.dispatch(first);
      await outcome(first);
      // The server's keepAliveTimeout (200 ms) closes the idle connection.
      await new Promise((r) => setTimeout(r, 450));
      const second = get('/status/200');
      p.dispatch(second);
      await outcome(second);
      expect([second.status, second.error]).toEqual([200, undefined]);
    } finally {
      p.destroy();
    }
  });

  it('a connection reset mid-response is "reset"; closed mid-response is "closed"; later requests are read', async () => {
    const p = pool(rawUrl, 1);
    try {
      const reset = get('/reset-mid');
      const fin = get('/fin-mid');
      const after = get('/ok');
      for (const r of [reset, fin, after]) p.dispatch(r);
      await Promise.all([reset, fin, after].map(outcome));
      expect(kindOfError(reset.error)).toBe('reset');
      expect(kindOfError(fin.error)).toBe('closed');
      expect([after.status, after.text(), after.error]).toEqual([200, 'ok', undefined]);
    } finally {
      p.destroy();
    }
  });

  it('an answer that is not HTTP fails its request and closes the connection', async () => {
    const p = pool(rawUrl, 1);
    try {
      const bad = get('/garbage');
      const after = get('/ok');
      p.dispatch(bad);
      p.dispatch(after);
      await Promise.all([bad, after].map(outcome));
      expect(bad.error?.message).toMatch(/invalid HTTP response/);
      expect(kindOfError(bad.error)).toBe('other');
      expect([after.status, after.error]).toEqual([200, undefined]);
    } finally {
      p.destroy();
    }
  });

  it('aborting a request on a connection closes that connection, and a fresh one carries the next request', async () => {
    const before = httpConnections;
    const p = pool(httpUrl, 1);
    try {
      const slow = get('/slow');
      const queued = get('/status/200');
      p.dispatch(slow);
      p.dispatch(queued);
      await new Promise((r) => setTimeout(r, 50));
      expect(queued.calls).toBe(0);
      p.abort(slow);
      expect(slow.error).toBeInstanceOf(RequestAbortedError);
      await outcome(queued);
      expect([queued.status, queued.error]).toEqual([200, undefined]);
      expect(httpConnections - before).toBe(2);
      // The aborted request is told once: the slow answer never reaches it.
      await new Promise((r) => setTimeout(r, 450));
      expect(slow.calls).toBe(1);
    } finally {
      p.destroy();
    }
  });

  it('waiting requests go out in order; an aborted one leaves the FIFO at once', async () => {
    const p = pool(rawUrl, 1);
    try {
      rawRequests.length = 0;
      const probes = [get('/a'), get('/b'), get('/c'), get('/d')];
      for (const r of probes) p.dispatch(r);
      p.abort(probes[2] as Probe);
      expect((probes[2] as Probe).error).toBeInstanceOf(RequestAbortedError);
      await Promise.all(probes.map(outcome));
      expect(rawRequests.map((r) => r.split(' ')[1])).toEqual(['/a', '/b', '/d']);
      expect(probes.map((r) => r.calls)).toEqual([1, 1, 1, 1]);
    } finally {
      p.destroy();
    }
  });

  it('a request aborted while it waits and dispatched again at once (objects are reused) goes out once', async () => {
    const p = pool(rawUrl, 1);
    try {
      rawRequests.length = 0;
      const a = get('/a');
      const b = new Probe({ method: 'GET', path: '/b', body: undefined, headers: {} });
      const c = get('/c');
      for (const r of [a, b, c]) p.dispatch(r);
      p.abort(b);
      expect(b.error).toBeInstanceOf(RequestAbortedError);
      b.spec.path = '/b-again';
      const before = b.calls;
      p.dispatch(b);
      await Promise.all([a, c].map(outcome));
      for (let i = 0; i < 100 && b.calls === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(rawRequests.map((r) => r.split(' ')[1])).toEqual(['/a', '/c', '/b-again']);
      expect(b.calls).toBe(2);
    } finally {
      p.destroy();
    }
  });

  it('a refused connection fails the requests waiting for it as "refused"', async () => {
    const closed = createNetServer();
    const url = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const p = pool(url, 1);
    try {
      const probes = [get('/a'), get('/b')];
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => kindOfError(r.error))).toEqual(['refused', 'refused']);
    } finally {
      p.destroy();
    }
  });

  it('connections opened before the run are used first', async () => {
    const before = httpConnections;
    const parsed = new URL(httpUrl);
    const warm = await openConnections(httpUrl, {}, 2, 2_000);
    expect(warm.size).toBe(2);
    const p = new Http1Pool({ connections: 2, host: parsed.host, connect: leanConnector({}, 2_000), connectOptions: connectOptions(parsed), warm });
    try {
      const probes = [get('/status/200'), get('/status/200'), get('/status/200')];
      for (const r of probes) p.dispatch(r);
      await Promise.all(probes.map(outcome));
      expect(probes.map((r) => [r.status, r.error])).toEqual([
        [200, undefined],
        [200, undefined],
        [200, undefined],
      ]);
      expect(httpConnections - before).toBe(2);
      expect(warm.size).toBe(0);
    } finally {
      p.destroy();
      warm.close();
    }
  });

  it('destroy() closes every connection and tells waiting requests', async () => {
    const p = pool(httpUrl, 1);
    const slow = get('/slow');
    const queued = get('/status/200');
    p.dispatch(slow);
    p.dispatch(queued);
    await new Promise((r) => setTimeout(r, 50));
    p.destroy();
    expect(slow.error).toBeInstanceOf(RequestAbortedError);
    expect(queued.error).toBeInstanceOf(RequestAbortedError);
    for (let i = 0; i < 50 && httpSockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(httpSockets.size).toBe(0);
  });
});

describe('lean HTTP/1.1 client: its connector', () => {
  it('refuses a host that is not allowed before any socket', async () => {
    const p = new Http1Pool({ connections: 1, host: 'orders.example.com', connect: leanConnector({ allowHosts: ['other.example.com'] }, 2_000), connectOptions: connectOptions(new URL('http://orders.example.com:8080')) });
    try {
      const r = get('/a');
      p.dispatch(r);
      await outcome(r);
      expect(r.error?.message).toMatch(/connection is not loopback and not an allowed host.*found host orders\.example\.com/);
    } finally {
      p.destroy();
    }
  });

  it('a TLS handshake that never completes is a connect timeout: kind "timeout"', async () => {
    const silent = createNetServer((s) => s.on('error', () => undefined));
    const url = (await listen(silent)).replace('http:', 'https:');
    const parsed = new URL(url);
    const p = new Http1Pool({ connections: 1, host: parsed.host, connect: leanConnector({}, 150), connectOptions: connectOptions(parsed) });
    try {
      const r = get('/a');
      const t0 = performance.now();
      p.dispatch(r);
      await outcome(r);
      expect(kindOfError(r.error)).toBe('timeout');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      p.destroy();
      silent.close();
    }
  });
});

describe('lean HTTP/1.1 client: request bytes', () => {
  it('method, path, host, the spec headers and a Content-Length body (string as UTF-8, or a Buffer)', async () => {
    const p = pool(rawUrl, 1);
    try {
      rawRequests.length = 0;
      const text = new Probe({ method: 'POST', path: '/orders?x=1', body: '{"name":"Zoë"}', headers: { 'content-type': 'application/json', 'x-trace': 'abc' } });
      const bytes = new Probe({ method: 'PUT', path: '/blob', body: Buffer.from([0, 1, 2, 255]), headers: {} });
      const own = new Probe({ method: 'DELETE', path: '/orders/7', body: undefined, headers: { Host: 'orders.internal' } });
      for (const r of [text, bytes, own]) p.dispatch(r);
      await Promise.all([text, bytes, own].map(outcome));
      const { host } = new URL(rawUrl);
      expect(rawRequests[0]).toBe(`POST /orders?x=1 HTTP/1.1\r\ncontent-type: application/json\r\nx-trace: abc\r\nhost: ${host}\r\ncontent-length: 15\r\n\r\n${Buffer.from('{"name":"Zoë"}').toString('latin1')}`);
      expect(rawRequests[1]).toBe(`PUT /blob HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 4\r\n\r\n\u0000\u0001\u0002\u00ff`);
      expect(rawRequests[2]).toBe('DELETE /orders/7 HTTP/1.1\r\nHost: orders.internal\r\n\r\n');
    } finally {
      p.destroy();
    }
  });

  it('a path or header that would break the request line is refused before anything is written', async () => {
    const p = pool(rawUrl, 1);
    try {
      rawRequests.length = 0;
      const spaced = get('/a b');
      const injected = new Probe({ method: 'GET', path: '/ok', body: undefined, headers: { 'x-a': 'v\r\nx-b: injected' } });
      const fine = get('/ok');
      for (const r of [spaced, injected, fine]) p.dispatch(r);
      await Promise.all([spaced, injected, fine].map(outcome));
      expect([spaced.error?.message, injected.error?.message]).toEqual(['invalid request path "/a b"', 'invalid value of request header "x-a"']);
      expect(kindOfError(spaced.error)).toBe('other');
      expect(fine.status).toBe(200);
      expect(rawRequests.map((r) => r.split(' ')[1])).toEqual(['/ok']);
    } finally {
      p.destroy();
    }
  });
});
