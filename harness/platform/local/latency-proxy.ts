import { connect, createServer, type Server, type Socket } from 'node:net';
import { isLoopbackHost } from '../../core/loopback.js';
import { DelayedPipe, type PipeCounters } from './delayed-pipe.js';
import { DelaySampler, delaysDirection, networkDelayProblems, type NetworkDelay } from './network-delay.js';

export interface LatencyProxyOptions {
  /** Loopback only: the proxy never sends traffic anywhere else. */
  upstreamHost: string;
  upstreamPort: number;
  /** Uniform [0, 1) source for delay samples (seed it for repeatable runs). */
  random?: () => number;
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

interface Connection {
  client: Socket;
  upstream: Socket;
  pipes: { to: DelayedPipe; from: DelayedPipe };
}

const newCounters = (): PipeCounters => ({ bytes: 0, delayedChunks: 0, heldBytes: 0 });

/**
 * A loopback TCP proxy that injects NetworkChaos-style delay (see network-delay.ts) for the
 * local platform: between the replicas and PostgreSQL, or between the Service and a replica.
 * Without a delay it is a plain pipe. `clearDelay()` (and a `setDelay()` that stops delaying a
 * direction) releases every held chunk at once, in order: the fault's effect ends the instant
 * it is recovered, as when netem's qdisc is removed (which drops, where this delivers).
 * A reset on either side resets the other; a FIN is passed on after the bytes before it.
 */
export class LatencyProxy {
  private readonly connections = new Set<Connection>();
  private readonly counters = { to: newCounters(), from: newCounters() };
  private samplers: { to: DelaySampler; from: DelaySampler } | undefined;
  private delay: NetworkDelay | undefined;
  private totalConnections = 0;
  private closing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: LatencyProxyOptions,
  ) {
    server.on('connection', (client: Socket) => this.accept(client));
  }

  static async start(options: LatencyProxyOptions): Promise<LatencyProxy> {
    assertUpstream(options);
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('latency proxy has no TCP address');
    return new LatencyProxy(server, address.port, options);
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
    const { to, from } = this.counters;
    return {
      openConnections: this.connections.size,
      totalConnections: this.totalConnections,
      bytesTo: to.bytes,
      bytesFrom: from.bytes,
      delayedChunksTo: to.delayedChunks,
      delayedChunksFrom: from.delayedChunks,
      heldBytes: to.heldBytes + from.heldBytes,
      delay: this.delay ? { ...this.delay } : null,
    };
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
    this.totalConnections += 1;
    const { upstreamHost: host, upstreamPort: port } = this.options;
    const upstream = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const pipes = {
      to: new DelayedPipe(client, upstream, () => this.sample('to'), this.counters.to),
      from: new DelayedPipe(upstream, client, () => this.sample('from'), this.counters.from),
    };
    const conn: Connection = { client, upstream, pipes };
    this.connections.add(conn);
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
  }
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
