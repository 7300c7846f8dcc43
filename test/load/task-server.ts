import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A fake Task API on 127.0.0.1, port 0, with fault switches (as autocannon's own test servers).
 * It counts what it handled so tests can compare the driver's reports with the server's truth.
 */
export interface Faults {
  /** Every answer waits this long. */
  delayMs: number;
  /** The Nth request of every connection: after `delayMs`, the socket is destroyed (a clean FIN) unanswered. */
  destroyAtRequest: number;
  /** The Nth request of every connection: after `delayMs`, the connection is reset (RST) unanswered. */
  resetAtRequest: number;
  /** The Nth request of every connection: after `delayMs`, half a response (headers, part of a body), then FIN. */
  truncateAtRequest: number;
  /** Every Nth request is answered 503. */
  status503Every: number;
  /** Every Nth answer on a connection says `Connection: close` (then the server closes it). */
  closeAfter: number;
  /** Answers are held until this performance.now() time. */
  stallUntil: number;
  /** Requests are read and never answered. */
  blackhole: boolean;
}

export interface ServerStats {
  received: number;
  responded: number;
  destroyed: number;
  reset: number;
  truncated: number;
  status503: number;
  concurrent: number;
  maxConcurrent: number;
  /** performance.now() of every request received. */
  receivedAt: number[];
  /** `METHOD path-shape` of every request in arrival order (ids replaced by :id). */
  log: string[];
}

export interface Task {
  id: number;
  title: string;
  description?: string;
  status: string;
  priority: number;
}

export interface TaskServer {
  url: string;
  faults: Faults;
  stats: ServerStats;
  tasks: Map<number, Task>;
  nextTaskId: number;
  /** Stops accepting connections and drops open ones: later connects are refused. */
  refuse(): Promise<void>;
  close(): Promise<void>;
}

const NO_FAULTS: Faults = {
  delayMs: 0,
  destroyAtRequest: 0,
  resetAtRequest: 0,
  truncateAtRequest: 0,
  status503Every: 0,
  closeAfter: 0,
  stallUntil: 0,
  blackhole: false,
};

interface PerSocket {
  received: WeakMap<Socket, number>;
  answered: WeakMap<Socket, number>;
}

export async function startTaskServer(faults: Partial<Faults> = {}, seedRows = 100, port = 0): Promise<TaskServer> {
  const state: TaskServer = {
    url: '',
    faults: { ...NO_FAULTS, ...faults },
    stats: { received: 0, responded: 0, destroyed: 0, reset: 0, truncated: 0, status503: 0, concurrent: 0, maxConcurrent: 0, receivedAt: [], log: [] },
    tasks: new Map(),
    nextTaskId: seedRows + 1,
    refuse: async () => {},
    close: async () => {},
  };
  for (let id = 1; id <= seedRows; id++) state.tasks.set(id, { id, title: `seed ${id}`, status: 'pending', priority: 3 });
  const perSocket = { received: new WeakMap<Socket, number>(), answered: new WeakMap<Socket, number>() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => onRequest(state, perSocket, req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  state.refuse = state.close = async () => {
    if (closed) return;
    closed = true;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
  };
  return state;
}

function onRequest(s: TaskServer, perSocket: PerSocket, req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const { stats, faults } = s;
  const n = ++stats.received;
  const onSocket = (perSocket.received.get(req.socket) ?? 0) + 1;
  perSocket.received.set(req.socket, onSocket);
  stats.receivedAt.push(performance.now());
  stats.log.push(`${req.method} ${(req.url ?? '').replace(/\/\d+/, '/:id')}`);
  stats.maxConcurrent = Math.max(stats.maxConcurrent, ++stats.concurrent);
  res.on('close', () => stats.concurrent--);
  if (faults.blackhole) return;
  const wait = Math.max(faults.delayMs, faults.stallUntil - performance.now());
  const act = (): void => {
    const socket = req.socket;
    if (onSocket === faults.destroyAtRequest) {
      stats.destroyed++;
      socket.destroy();
    } else if (onSocket === faults.resetAtRequest) {
      stats.reset++;
      socket.resetAndDestroy();
    } else if (onSocket === faults.truncateAtRequest) {
      stats.truncated++;
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id":');
    } else {
      answer(s, perSocket, req, res, body, n);
    }
  };
  if (wait > 0) setTimeout(act, wait);
  else act();
}

function answer(s: TaskServer, perSocket: PerSocket, req: http.IncomingMessage, res: http.ServerResponse, body: string, n: number): void {
  const onSocket = (perSocket.answered.get(req.socket) ?? 0) + 1;
  perSocket.answered.set(req.socket, onSocket);
  if (s.faults.closeAfter > 0 && onSocket % s.faults.closeAfter === 0) res.shouldKeepAlive = false;
  const [status, payload] = s.faults.status503Every > 0 && n % s.faults.status503Every === 0 ? [503, { error: 'unavailable' }] : route(s, req, body);
  if (status === 503) s.stats.status503++;
  const text = payload === undefined ? '' : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text, () => s.stats.responded++);
}

function route(s: TaskServer, req: http.IncomingMessage, body: string): [number, unknown] {
  const url = new URL(req.url ?? '/', 'http://x');
  const id = Number(/^\/tasks\/(\d+)$/.exec(url.pathname)?.[1] ?? Number.NaN);
  const task = s.tasks.get(id);
  if (req.method === 'GET' && url.pathname === '/tasks') return [200, list(s, url)];
  if (req.method === 'POST' && url.pathname === '/tasks') {
    const created = { ...(JSON.parse(body) as Omit<Task, 'id'>), id: s.nextTaskId++ };
    s.tasks.set(created.id, created);
    return [201, created];
  }
  if (!task) return [404, { error: 'not found' }];
  if (req.method === 'GET') return [200, task];
  if (req.method === 'PATCH') {
    Object.assign(task, JSON.parse(body) as Partial<Task>);
    return [200, task];
  }
  if (req.method === 'DELETE') {
    s.tasks.delete(id);
    return [204, undefined];
  }
  return [405, { error: 'method' }];
}

function list(s: TaskServer, url: URL): unknown {
  const limit = Number(url.searchParams.get('limit') ?? 20);
  const after = Number(url.searchParams.get('cursor') ?? 0);
  const ids = [...s.tasks.keys()].filter((id) => id > after).sort((a, b) => a - b);
  const items = ids.slice(0, limit).map((id) => s.tasks.get(id));
  const last = items.at(-1);
  return { items, next_cursor: ids.length > limit && last ? String(last.id) : null };
}
