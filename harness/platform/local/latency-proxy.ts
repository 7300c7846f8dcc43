import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { HarnessError } from '../../core/errors.js';
import { COMPILED } from '../../core/paths.js';
import { isLoopbackHost } from '../../core/loopback.js';
import { seededRandom } from '../../core/random.js';
import { DelayedPipe, type PipeCounters } from './delayed-pipe.js';
import { DELAY_DIRECTIONS, DelaySampler, delaysDirection, networkDelayProblems, type NetworkDelay } from './network-delay.js';

export interface LatencyProxyOptions {
  /** Loopback only: the proxy never sends traffic anywhere else. */
  upstreamHost: string;
  upstreamPort: number;
  /** Seeds the delay samples for repeatable runs (default: Math.random). */
  seed?: number;
}

export interface LatencyProxyStats {
  openConnections: number;
  totalConnections: number;
  /** Bytes received from clients (towards the upstream) and from the upstream (back). */
  bytesTo: number;
  bytesFrom: number;
  /** Chunks that went through a delay queue, per direction. */
  delayedChunksTo: number;
  delayedChunksFrom: number;
  /** Bytes held in delay queues right now. */
  heldBytes: number;
  delay: NetworkDelay | null;
}

/**
 * The proxy's counters, one Float64 cell each (a SharedArrayBuffer's when it runs in a worker).
 * Only the proxy's thread writes them; the harness reads without a lock (aligned 8-byte accesses
 * are not torn on the 64-bit platforms Node runs on), so a read may be a moment old, never mixed.
 */
const CELL = { open: 0, total: 1, to: 2, from: 5 } as const;
const CELLS = 8;
/** Within a direction's three cells, as PipeCounters names them. */
const PIPE_CELL = { bytes: 0, delayedChunks: 1, heldBytes: 2 } as const;

/** One direction's PipeCounters over three cells, so the harness thread reads them without a message. */
class CellCounters implements PipeCounters {
  constructor(
    private readonly cells: Float64Array,
    private readonly at: number,
  ) {}
  get bytes(): number {
    return this.cells[this.at + PIPE_CELL.bytes] as number;
  }
  set bytes(v: number) {
    this.cells[this.at + PIPE_CELL.bytes] = v;
  }
  get delayedChunks(): number {
    return this.cells[this.at + PIPE_CELL.delayedChunks] as number;
  }
  set delayedChunks(v: number) {
    this.cells[this.at + PIPE_CELL.delayedChunks] = v;
  }
  get heldBytes(): number {
    return this.cells[this.at + PIPE_CELL.heldBytes] as number;
  }
  set heldBytes(v: number) {
    this.cells[this.at + PIPE_CELL.heldBytes] = v;
  }
}

function statsOf(cells: Float64Array, delay: NetworkDelay | undefined): LatencyProxyStats {
  const cell = (i: number): number => cells[i] as number;
  return {
    openConnections: cell(CELL.open),
    totalConnections: cell(CELL.total),
    bytesTo: cell(CELL.to + PIPE_CELL.bytes),
    bytesFrom: cell(CELL.from + PIPE_CELL.bytes),
    delayedChunksTo: cell(CELL.to + PIPE_CELL.delayedChunks),
    delayedChunksFrom: cell(CELL.from + PIPE_CELL.delayedChunks),
    heldBytes: cell(CELL.to + PIPE_CELL.heldBytes) + cell(CELL.from + PIPE_CELL.heldBytes),
    delay: delay ? { ...delay } : null,
  };
}

export interface InLoopLatencyProxyOptions extends Omit<LatencyProxyOptions, 'seed'> {
  /** Uniform [0, 1) source for delay samples. */
  random?: () => number;
  /** Where the counters live (CELLS cells); its own array by default. */
  cells?: Float64Array;
  /** Called before each chunk's delay is sampled (the worker picks up a delay set meanwhile). */
  beforeSample?: () => void;
}

interface Connection {
  client: Socket;
  upstream: Socket;
  pipes: { to: DelayedPipe; from: DelayedPipe };
}

/**
 * The proxy itself, on the calling thread's event loop (LatencyProxy runs it in a worker): a
 * loopback TCP proxy that injects NetworkChaos-style delay (see network-delay.ts) for the local
 * platform, between the replicas and PostgreSQL. Without a delay it is a plain pipe.
 * `clearDelay()` (and a `setDelay()` that stops delaying a direction) releases every held chunk
 * at once, in order: the fault's effect ends the instant it is recovered, as when netem's qdisc
 * is removed (which drops, where this delivers).
 * A reset on either side resets the other; a FIN is passed on after the bytes before it.
 */
export class InLoopLatencyProxy {
  private readonly connections = new Set<Connection>();
  private readonly cells: Float64Array;
  private readonly counters: { to: PipeCounters; from: PipeCounters };
  private samplers: { to: DelaySampler; from: DelaySampler } | undefined;
  private delay: NetworkDelay | undefined;
  private closing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: InLoopLatencyProxyOptions,
  ) {
    this.cells = options.cells ?? new Float64Array(CELLS);
    this.counters = { to: new CellCounters(this.cells, CELL.to), from: new CellCounters(this.cells, CELL.from) };
    server.on('connection', (client: Socket) => this.accept(client));
  }

  static async start(options: InLoopLatencyProxyOptions): Promise<InLoopLatencyProxy> {
    assertUpstream(options);
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('latency proxy has no TCP address');
    return new InLoopLatencyProxy(server, address.port, options);
  }

  /** Applies `spec` to new and established connections alike; throws RangeError if invalid. */
  setDelay(spec: NetworkDelay): void {
    const problems = networkDelayProblems(spec);
    if (problems.length > 0) throw new RangeError(`invalid network delay: ${problems.join('; ')}`);
    this.delay = { ...spec };
    const random = this.options.random ?? Math.random;
    this.samplers = { to: new DelaySampler(this.delay, random), from: new DelaySampler(this.delay, random) };
    for (const direction of ['to', 'from'] as const) {
      if (!delaysDirection(this.delay, direction)) this.flush(direction);
    }
  }

  /** Back to a plain pipe; whatever is held is released now, in order. Idempotent. */
  clearDelay(): void {
    this.delay = undefined;
    this.samplers = undefined;
    this.flush('to');
    this.flush('from');
  }

  stats(): LatencyProxyStats {
    return statsOf(this.cells, this.delay);
  }

  /** Destroys every connection (dropping what is held) and the listener. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    this.delay = undefined;
    for (const c of this.connections) this.drop(c);
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private sample(direction: 'to' | 'from'): number | undefined {
    this.options.beforeSample?.();
    const { delay, samplers } = this;
    if (delay === undefined || samplers === undefined || !delaysDirection(delay, direction)) return undefined;
    return samplers[direction].next();
  }

  private flush(direction: 'to' | 'from'): void {
    for (const c of this.connections) c.pipes[direction].flush();
  }

  private accept(client: Socket): void {
    if (this.closing) {
      client.destroy();
      return;
    }
    this.cells[CELL.total] = (this.cells[CELL.total] as number) + 1;
    const { upstreamHost: host, upstreamPort: port } = this.options;
    const upstream = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const pipes = {
      to: new DelayedPipe(client, upstream, () => this.sample('to'), this.counters.to),
      from: new DelayedPipe(upstream, client, () => this.sample('from'), this.counters.from),
    };
    const conn: Connection = { client, upstream, pipes };
    this.connections.add(conn);
    this.cells[CELL.open] = this.connections.size;
    client.on('error', () => resetQuietly(upstream));
    upstream.on('error', () => resetQuietly(client));
    let open = 2;
    const onClose = (): void => {
      open -= 1;
      if (open === 0) this.drop(conn);
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
  }

  private drop(conn: Connection): void {
    conn.pipes.to.close();
    conn.pipes.from.close();
    conn.client.destroy();
    conn.upstream.destroy();
    this.connections.delete(conn);
    this.cells[CELL.open] = this.connections.size;
  }
}

/**
 * The worker thread's entry: compiled, the worker's own .js; from the sources, a loader shim, so the
 * thread runs the TypeScript sources too.
 */
const WORKER_ENTRY = new URL(COMPILED ? './latency-proxy-worker.js' : './latency-proxy-worker.mjs', import.meta.url);
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 3_000;

/**
 * What the harness thread and the proxy's worker share: the delay as a version (bumped after
 * each change, so the fields written before it are visible) and its fields, and the counters.
 */
export interface LatencyProxyWorkerData {
  upstreamHost: string;
  upstreamPort: number;
  seed: number | undefined;
  version: Int32Array;
  /** latencyMs, jitterMs, correlation, index in DELAY_DIRECTIONS (-1: no delay). */
  spec: Float64Array;
  cells: Float64Array;
}

export type LatencyProxyWorkerMessage = { event: 'listening'; port: number } | { event: 'failed'; message: string };

/** The delay last published in `spec`, or undefined for none. */
export function sharedDelay(spec: Float64Array): NetworkDelay | undefined {
  const direction = DELAY_DIRECTIONS[spec[3] as number];
  if (direction === undefined) return undefined;
  return { latencyMs: spec[0] as number, jitterMs: spec[1] as number, correlation: spec[2] as number, direction };
}

/**
 * The latency proxy, run in a worker thread: the bytes it moves, holds and releases get an event
 * loop of their own, so a database under heavy traffic or a delay with a timer per chunk does not
 * delay the harness's load generator, whose loop stamps every latency. Same process (nothing
 * extra to reap: the thread ends with it); unref'd, so it never keeps the harness alive.
 * `setDelay`, `clearDelay` and `stats` stay synchronous: the delay and the counters are shared
 * memory, and a message only wakes the worker to release what a change lets go.
 */
export class LatencyProxy {
  private delay: NetworkDelay | undefined;
  private exited = false;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readonly port: number,
    private readonly shared: Pick<LatencyProxyWorkerData, 'version' | 'spec' | 'cells'>,
  ) {
    // An uncaught error in the worker ends it; without a listener it would also end the harness.
    worker.on('error', (err) => (this.failure = err));
    this.exit = new Promise((resolve) =>
      worker.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
    worker.unref();
  }

  static async start(options: LatencyProxyOptions): Promise<LatencyProxy> {
    assertUpstream(options);
    const shared = {
      version: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
      spec: new Float64Array(new SharedArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT)).fill(-1),
      cells: new Float64Array(new SharedArrayBuffer(CELLS * Float64Array.BYTES_PER_ELEMENT)),
    };
    const workerData: LatencyProxyWorkerData = { upstreamHost: options.upstreamHost, upstreamPort: options.upstreamPort, seed: options.seed, ...shared };
    const worker = new Worker(WORKER_ENTRY, { workerData });
    const port = await listening(worker);
    return new LatencyProxy(worker, port, shared);
  }

  /**
   * Applies `spec` to new and established connections alike; throws RangeError if invalid. Every
   * chunk the proxy reads after this returns is delayed; what stops being delayed is released now.
   */
  setDelay(spec: NetworkDelay): void {
    const problems = networkDelayProblems(spec);
    if (problems.length > 0) throw new RangeError(`invalid network delay: ${problems.join('; ')}`);
    if (this.closing || this.exited) throw new HarnessError(`latency proxy is ${this.closing ? 'closed' : `gone: ${this.failure?.message ?? 'its thread exited'}`}`);
    this.delay = { ...spec };
    this.publish(this.delay);
  }

  /** Back to a plain pipe; whatever is held is released now, in order. Idempotent. */
  clearDelay(): void {
    this.delay = undefined;
    if (!this.closing && !this.exited) this.publish(undefined);
  }

  stats(): LatencyProxyStats {
    return statsOf(this.shared.cells, this.delay);
  }

  /** Whether the proxy's thread is still running (false once closed, or if it failed). */
  get threadAlive(): boolean {
    return !this.exited;
  }

  /** Destroys every connection (dropping what is held), the listener and the thread. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.delay = undefined;
    if (!this.exited) {
      this.worker.ref(); // the harness waits for this
      this.worker.postMessage({ op: 'close' });
      const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.exit;
      clearTimeout(timer);
    }
    // Nothing writes the counters any more; a thread stopped mid-way took its sockets with it.
    const { cells } = this.shared;
    cells[CELL.open] = 0;
    cells[CELL.to + PIPE_CELL.heldBytes] = 0;
    cells[CELL.from + PIPE_CELL.heldBytes] = 0;
  }

  private publish(delay: NetworkDelay | undefined): void {
    const { spec, version } = this.shared;
    if (delay) spec.set([delay.latencyMs, delay.jitterMs, delay.correlation, DELAY_DIRECTIONS.indexOf(delay.direction)]);
    else spec[3] = -1;
    Atomics.add(version, 0, 1);
    this.worker.postMessage({ op: 'sync' });
  }
}

/** The worker's port once it listens; on a failure or timeout the thread is stopped and this rejects. */
function listening(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (message: string): void => {
      cleanup();
      void worker.terminate();
      reject(new HarnessError(`latency proxy thread: ${message}`));
    };
    const onMessage = (msg: LatencyProxyWorkerMessage): void => {
      if (msg.event === 'failed') return fail(msg.message);
      cleanup();
      resolve(msg.port);
    };
    const onError = (err: Error): void => fail(err.message);
    const onExit = (code: number): void => fail(`exited (code ${code}) before listening`);
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT_MS}ms`), START_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/** Loopback only, and a real port: checked before anything listens or is spawned. */
export function assertUpstream({ upstreamHost, upstreamPort }: Pick<LatencyProxyOptions, 'upstreamHost' | 'upstreamPort'>): void {
  if (!isLoopbackHost(upstreamHost)) throw new RangeError(`latency proxy upstream must be loopback, found host ${upstreamHost}`);
  if (!Number.isInteger(upstreamPort) || upstreamPort < 1 || upstreamPort > 65_535) {
    throw new RangeError(`latency proxy upstream port must be an integer from 1 to 65535, found ${upstreamPort}`);
  }
}

/** A reset, as a proxy passes on a reset it saw; a socket already gone is left alone. */
function resetQuietly(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
