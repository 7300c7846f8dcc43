import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A replica that takes connections over its IPC channel: `handOff` writes the socket's handle to
 * the channel (the socket stays open on this side) and calls back once written, or with the error
 * if the channel is gone; `exited` settles when the replica has exited.
 */
export interface HandoffTarget {
  handOff(message: object, socket: Socket, sent: (err: Error | null) => void): void;
  readonly exited: Promise<unknown>;
}

export interface Endpoint {
  name: string;
  port: number;
  /** Present when the replica takes connections over IPC (see HandoffService). */
  replica?: HandoffTarget | undefined;
}

/** What the supervisor needs of a Service: endpoints in and out. */
export interface EndpointRegistry {
  add(endpoint: Endpoint): void;
  remove(name: string, reason: string): void;
}

/** The Service as the platform runs it: started before the replicas, closed before they stop. */
export interface FrontService extends EndpointRegistry {
  /** Resolves with the front port. */
  start(): Promise<number>;
  close(): Promise<void>;
  /** Its process, when it runs in one (the reaper must know it). */
  readonly pid: number | undefined;
}

/**
 * The Service: one front address that spreads new connections over ready endpoints at L4,
 * round-robin, like kube-proxy. No retries and no health checking of its own: if the chosen
 * endpoint refuses, the client's connection is reset, so the harness measures what clients of
 * a real Service see. Established connections are not moved when an endpoint leaves (as with
 * conntrack); they end when the replica closes them or dies.
 */
export class Service {
  private readonly endpoints: Endpoint[] = [];
  private readonly sockets = new Set<Socket>();
  private next = 0;
  private server?: Server;

  async listen(host = '127.0.0.1'): Promise<number> {
    const server = createServer({ noDelay: true }, (client) => this.route(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('service has no TCP address');
    return addr.port;
  }

  add(endpoint: Endpoint): void {
    if (this.endpoints.some((e) => e.name === endpoint.name)) return;
    this.endpoints.push(endpoint);
  }

  remove(name: string): void {
    const i = this.endpoints.findIndex((e) => e.name === name);
    if (i >= 0) this.endpoints.splice(i, 1);
  }

  endpointNames(): string[] {
    return this.endpoints.map((e) => e.name);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private route(client: Socket): void {
    const endpoint = this.pick();
    if (!endpoint) {
      // No ready endpoint: kube-proxy rejects; the closest a userspace proxy gets is a reset.
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ port: endpoint.port, host: '127.0.0.1', noDelay: true });
    this.track(client);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // A reset on one side is a reset on the other; a clean close is passed on as a clean close.
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.resetAndDestroy());
  }

  private pick(): Endpoint | undefined {
    if (this.endpoints.length === 0) return undefined;
    this.next = (this.next + 1) % this.endpoints.length;
    return this.endpoints[this.next];
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
