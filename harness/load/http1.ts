import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { HTTPParser } from 'http-parser-js';
import type { buildConnector } from 'undici';
import { isHostAllowed, notAllowed, type TargetAccess } from './loopback.js';
import type { HttpRequestSpec } from './workload.js';
import type { WarmConnections } from './warm.js';

/**
 * A lean HTTP/1.1 client for the open model: `connections` keep-alive sockets, one request on the
 * wire per socket (no pipelining), requests that find no idle socket wait in a FIFO. Responses
 * are parsed by http-parser-js (what autocannon uses), bodies handed over only when the handler
 * asks. Sockets come from a connector (leanConnector below: host policy, TLS, connect timeout),
 * the warm ones (opened before the run) first.
 * It has no timers of its own: the caller's deadline sweep aborts what is late (`abort`).
 */

/** One request and what it is told; `slot` is the pool's own bookkeeping (where the request is). */
export interface Http1Handler {
  readonly spec: HttpRequestSpec;
  slot: object | number | null;
  /** The status is known; true when the body is wanted (onData), false to discard it. */
  onHeaders(status: number): boolean;
  onData(chunk: Buffer): void;
  onComplete(): void;
  /** No (complete) response: the socket's error, or one of the errors below. Called at most once. */
  onError(err: Error): void;
}

/** The connection closed before the whole response came (a clean FIN): transport kind 'closed'. */
export class SocketClosedError extends Error {
  readonly code = 'UND_ERR_SOCKET';
  constructor() {
    super('other side closed');
  }
}
/** Given up by the caller (its deadline passed). */
export class RequestAbortedError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor() {
    super('request aborted');
  }
}
/** A path or header value that cannot go on the wire as is (control characters, CR/LF). */
export class InvalidRequestError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}
/** The response is not HTTP/1.1 as http-parser-js reads it. */
export class ResponseParseError extends Error {
  readonly code = 'HPE_INVALID';
}

/** undici's connector shape, so either connector fits the pool and the warm connections. */
export type Connector = buildConnector.connector;
export type ConnectOptions = Parameters<Connector>[0];

/** The connect timeout passed: transport kind 'timeout' (undici's code for it). */
export class ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
}

/** Where a plain socket's reads go: set by the connection that takes it; ignored before. */
type Reader = (n: number, buf: Buffer) => void;
const readers = new WeakMap<Socket, { read: Reader }>();
const ignoreRead: Reader = () => undefined;
/** One read buffer for every plain socket of the process: reads are consumed synchronously. */
let readBuffer: Buffer | undefined;

/**
 * The open model's connector: the host policy at every socket (as guardedConnector), the
 * target's TLS, `timeoutMs` to connect, keep-alive probes and no Nagle delay, as undici's.
 * Plain TCP sockets read into one reused buffer (net's `onread`) instead of a stream of fresh
 * Buffers; TLS sockets are read as streams. TLS sessions are not resumed across connections.
 */
export function leanConnector(access: TargetAccess, timeoutMs: number): Connector {
  const tls = access.tls;
  const allowHosts = access.allowHosts ?? [];
  return ({ hostname, protocol, port }, callback) => {
    if (!isHostAllowed(hostname, allowHosts)) return callback(notAllowed('connection', hostname), null);
    let socket: Socket;
    if (protocol === 'https:') {
      socket = tlsConnect({
        host: hostname,
        port: Number(port) || 443,
        ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
        ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
        ...(tls?.key !== undefined ? { key: tls.key.reveal() } : {}),
        // SNI and the name checked: tls.serverName, else the host unless it is an address.
        ...(tls?.serverName !== undefined ? { servername: tls.serverName } : isIP(hostname) ? {} : { servername: hostname }),
        ALPNProtocols: ['http/1.1'],
      });
    } else {
      const slot = { read: ignoreRead };
      readBuffer ??= Buffer.allocUnsafe(64 * 1024);
      socket = netConnect({ host: hostname, port: Number(port) || 80, onread: { buffer: readBuffer, callback: (n, buf) => (slot.read(n, buf as Buffer), true) } });
      readers.set(socket, slot);
    }
    socket.setKeepAlive(true, 60_000).setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    let pending = true;
    const onError = (err: Error): void => {
      clearTimeout(timer);
      if (pending) (pending = false), callback(err, null);
    };
    socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (pending) (pending = false), callback(null, socket);
    });
    socket.on('error', onError);
  };
}

/** Request-target: printable, no spaces, as undici checks it. */
const BAD_PATH = /[^\u0021-\u00ff]/;
const BAD_VALUE = /[\r\n\0]/;

export interface Http1PoolOptions {
  connections: number;
  /** The Host header: the target URL's host (with its port unless the default). */
  host: string;
  connect: Connector;
  connectOptions: ConnectOptions;
  /** Sockets opened before the run; taken before any new connection. */
  warm?: WarmConnections | undefined;
}

export class Http1Pool {
  private readonly idle: Conn[] = [];
  /** Waiting requests, each with its place in line (its `slot` while it waits); from `head` on. */
  private readonly queue: Http1Handler[] = [];
  private readonly places: number[] = [];
  private head = 0;
  private place = 0;
  /** Connections open or opening. */
  private count = 0;
  private destroyed = false;
  private readonly all = new Set<Conn>();

  constructor(private readonly o: Http1PoolOptions) {}

  dispatch(h: Http1Handler): void {
    if (this.destroyed) return h.onError(new RequestAbortedError());
    const conn = this.idle.pop();
    if (conn) return conn.send(h);
    h.slot = ++this.place;
    this.queue.push(h);
    this.places.push(this.place);
    if (this.count < this.o.connections) this.open();
  }

  /** Gives up on a request: a waiting one leaves the FIFO, one on a connection closes that connection. */
  abort(h: Http1Handler): void {
    const slot = h.slot;
    if (slot === null) return;
    if (typeof slot === 'number') {
      // Its entry in the FIFO is skipped when reached (its slot no longer names that place).
      h.slot = null;
      h.onError(new RequestAbortedError());
      return;
    }
    (slot as Conn).abort(h);
  }

  /** Closes every connection; requests still waiting or on the wire are told RequestAbortedError. */
  destroy(): void {
    this.destroyed = true;
    for (const c of [...this.all]) c.close(new RequestAbortedError());
    for (let h = this.next(); h; h = this.next()) (h.slot = null), h.onError(new RequestAbortedError());
  }

  /** The oldest request still waiting (entries of aborted requests are dropped on the way). */
  private next(): Http1Handler | undefined {
    const q = this.queue;
    while (this.head < q.length) {
      const h = q[this.head] as Http1Handler;
      const place = this.places[this.head++];
      if (h.slot === place) {
        this.compact();
        return h;
      }
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head === this.queue.length) (this.queue.length = 0), (this.places.length = 0), (this.head = 0);
    else if (this.head > 1024 && this.head * 2 > this.queue.length) (this.queue.splice(0, this.head), this.places.splice(0, this.head), (this.head = 0));
  }

  /** A connection is free: the oldest waiting request goes on it, or it waits in `idle`. */
  ready(conn: Conn): void {
    const h = this.next();
    if (h) conn.send(h);
    else this.idle.push(conn);
  }

  /** A connection is gone: out of `idle`; if requests wait, a fresh one is opened. */
  gone(conn: Conn): void {
    if (!this.all.delete(conn)) return;
    this.count--;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.destroyed && this.head < this.queue.length && this.count < this.o.connections) this.open();
  }

  private open(): void {
    const conn = new Conn(this, this.o.host);
    this.all.add(conn);
    this.count++;
    const warm = this.o.warm?.take();
    if (warm) {
      warm.ref();
      conn.attach(warm);
      return;
    }
    this.o.connect(this.o.connectOptions, (err, socket) => {
      if (this.destroyed || err || !socket) {
        (socket as Socket | null)?.destroy();
        this.all.delete(conn);
        this.count--;
        // The target is not reachable now: the requests waiting for a connection fail with its error.
        if (err && !this.destroyed) for (let h = this.next(); h; h = this.next()) (h.slot = null), h.onError(err);
        return;
      }
      conn.attach(socket as Socket);
    });
  }
}

/** One keep-alive connection and its parser. */
class Conn {
  private socket: Socket | undefined;
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private handler: Http1Handler | null = null;
  private wantsBody = false;
  private keepAlive = true;
  private noBody = false;
  /** An interim (1xx) response is being read: not the request's answer. */
  private interim = false;
  private closed = false;
  /** Body chunks are views of a buffer reused at the next read: they are copied for the handler. */
  private copyBody = false;

  constructor(
    private readonly pool: Http1Pool,
    private readonly host: string,
  ) {
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => this.onHeaders(info.statusCode, info.shouldKeepAlive, info.headers);
    p[HTTPParser.kOnBody] = (chunk, offset, length) => {
      if (this.wantsBody && this.handler) this.handler.onData(this.copyBody ? Buffer.from(chunk.subarray(offset, offset + length)) : chunk.subarray(offset, offset + length));
    };
    p[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
  }

  attach(socket: Socket): void {
    this.socket = socket;
    const reader = readers.get(socket);
    // The shared read buffer is reused at the next read: parsed at once, kept bodies copied.
    if (reader) (reader.read = (n, buf) => this.onData(buf, n)), (this.copyBody = true);
    else socket.on('data', (chunk: Buffer) => this.onData(chunk, chunk.length));
    socket.resume();
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => this.close(afterHandshake(err)));
    socket.on('close', () => this.close(new SocketClosedError()));
    this.pool.ready(this);
  }

  send(h: Http1Handler): void {
    const s = this.spec(h);
    if (s instanceof Error) {
      h.slot = null;
      h.onError(s);
      this.pool.ready(this);
      return;
    }
    h.slot = this;
    this.handler = h;
    this.noBody = h.spec.method === 'HEAD';
    this.wantsBody = false;
    this.keepAlive = true;
    const socket = this.socket as Socket;
    if (typeof s === 'string') socket.write(s);
    else {
      socket.cork();
      socket.write(s[0]);
      socket.write(s[1]);
      socket.uncork();
    }
  }

  /** The request's bytes: one string (head and a string body), or the head and a Buffer body. */
  private spec(h: Http1Handler): string | [string, Buffer] | InvalidRequestError {
    const { method, path, headers, body } = h.spec;
    if (BAD_PATH.test(path)) return new InvalidRequestError(`invalid request path ${JSON.stringify(path)}`);
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let host = true;
    for (const name in headers) {
      const value = headers[name] as string;
      const lower = name.length === 4 || name.length === 14 ? name.toLowerCase() : '';
      if (lower === 'content-length') continue;
      if (lower === 'host') host = false;
      if (BAD_VALUE.test(value) || BAD_VALUE.test(name)) return new InvalidRequestError(`invalid value of request header ${JSON.stringify(name)}`);
      head += `${name}: ${value}\r\n`;
    }
    if (host) head += `host: ${this.host}\r\n`;
    if (body === undefined) return `${head}\r\n`;
    if (typeof body === 'string') return `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return [`${head}content-length: ${body.length}\r\n\r\n`, body];
  }

  /** The first `length` bytes of `chunk` came. */
  private onData(chunk: Buffer, length: number): void {
    if (this.handler === null) {
      // Bytes with no request on the wire: the server is not speaking HTTP/1.1 as asked.
      this.close(new ResponseParseError('response data without a request'));
      return;
    }
    const r = this.parser.execute(chunk, 0, length);
    if (r instanceof Error) this.close(new ResponseParseError(`invalid HTTP response: ${r.message}`));
  }

  private onHeaders(status: number, shouldKeepAlive: boolean, headers: string[]): number {
    // 1xx, 204 and 304 have no body (http-parser-js knows); an interim 1xx is not the answer.
    this.interim = status >= 100 && status < 200 && status !== 101;
    if (this.interim) return 0;
    // http-parser-js keeps alive only with a framed body; the answer to a HEAD needs no framing.
    this.keepAlive = shouldKeepAlive || (this.noBody && !closes(headers));
    const h = this.handler;
    if (h) this.wantsBody = h.onHeaders(status);
    // The answer to a HEAD has no body, whatever its Content-Length says.
    return this.noBody ? 1 : 0;
  }

  private onMessageComplete(): void {
    if (this.interim) {
      this.interim = false;
      return;
    }
    const h = this.handler;
    if (!h) return;
    this.handler = null;
    h.slot = null;
    if (!this.keepAlive) this.close(null);
    h.onComplete();
    if (!this.closed) this.pool.ready(this);
  }

  /** The server ended its side: a response read to the end of the connection completes now. */
  private onEnd(): void {
    if (this.handler) this.parser.finish();
    this.close(new SocketClosedError());
  }

  /** Gives up on its request: the connection closes (a late answer cannot be told from the next one). */
  abort(h: Http1Handler): void {
    if (this.handler !== h) return;
    this.close(new RequestAbortedError());
  }

  /** Closes the connection; the request on it, if any, fails with `err`. */
  close(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    const h = this.handler;
    this.handler = null;
    this.pool.gone(this);
    if (h) {
      h.slot = null;
      h.onError(err ?? new SocketClosedError());
    }
  }
}

/**
 * An OpenSSL alert on an established connection (TLS 1.3: the server refuses the client's
 * certificate only after the client's side of the handshake completed, then closes) is met as a
 * closed connection, as undici reports it: 'closed', with the alert as its cause.
 */
function afterHandshake(err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined || !code.startsWith('ERR_SSL_')) return err;
  const closed = new SocketClosedError();
  closed.cause = err;
  return closed;
}

/** A `connection: close` among raw headers [name, value, …]. */
function closes(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === 'connection' && /close/i.test(headers[i + 1] as string)) return true;
  return false;
}
