import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Real loopback servers and clients for the latency proxy's tests. */

export interface TestServer {
  server: Server;
  port: number;
  /** Server-side sockets, live ones only. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A server on port 0; `onSocket` decides what it does (echo by default). */
export async function startServer(onSocket: (s: Socket) => void = (s) => s.pipe(s), allowHalfOpen = false): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen, noDelay: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server, port, sockets, close };
}

export function connectTo(port: number, allowHalfOpen = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One byte out, one byte back through an echo server: the round trip in ms. */
export function pingMs(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const timer = setTimeout(() => reject(new Error('ping timed out')), 10_000);
    socket.once('data', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
    socket.write('p');
  });
}

export async function pings(socket: Socket, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) out.push(await pingMs(socket));
  return out;
}

/** The q-quantile (0–1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Everything `socket` receives until it ends or closes. */
export function readAll(socket: Socket, timeoutMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('readAll timed out')), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    socket.once('end', done);
    socket.once('close', done);
  });
}

export function closed(socket: Socket): Promise<{ error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
    if (socket.closed) return resolve({});
    socket.once('close', () => resolve(error ? { error } : {}));
  });
}
