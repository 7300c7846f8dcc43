import { createServer, type Server, type Socket } from 'node:net';
import { HarnessError } from '../../core/errors.js';
import type { EventSink } from '../../core/journal.js';
import type { Endpoint, EndpointRegistry, FrontService, HandoffTarget } from './service.js';

/**
 * The message that goes with a handed-over connection; a replica that takes connections over its
 * IPC channel (the Task API) serves the socket that arrives with it as if it had accepted it.
 */
export const HANDOFF_MESSAGE = { gameday: 'connection' } as const;

interface Route {
  name: string;
  target: HandoffTarget;
  /** Connections given to the replica's channel whose write has not completed: still ours to close. */
  unsent: Set<Socket>;
}

/**
 * The Service for replicas that take connections over their IPC channel: it accepts each new
 * connection without reading from it, picks a ready replica round-robin, as kube-proxy picks an
 * endpoint per connection, and passes the socket to that replica, which serves it from then on.
 * The Service is out of the data path after the accept; there is nothing left of the connection
 * in this process once the handle is written to the channel (the kernel holds it until the
 * replica reads it, or closes it if the replica dies first). So, as through the proxying Service:
 * a replica that dies resets (or closes) every connection it held, new connections go only to
 * ready replicas, and a connection that finds none is reset.
 *
 * It lives in the harness, not in a process of its own: handles travel only between a process
 * and its child, and the replicas are the harness's children. Its cost here is one accept and
 * one IPC write per connection, nothing per request.
 */
export class HandoffService implements EndpointRegistry, FrontService {
  private readonly routes: Route[] = [];
  private next = 0;
  private server?: Server;

  constructor(private readonly journal: EventSink) {}

  /** No process of its own. */
  readonly pid = undefined;

  async start(host = '127.0.0.1'): Promise<number> {
    // pauseOnConnect: not a byte is read here, so the replica gets the request whole.
    const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => this.route(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new HarnessError(`the Service could not listen on ${host}: ${err.message}`, { cause: err })));
      server.listen(0, host, () => resolve());
    });
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new HarnessError('the Service has no TCP address');
    return addr.port;
  }

  add(endpoint: Endpoint): void {
    if (this.routes.some((r) => r.name === endpoint.name)) return;
    const target = endpoint.replica;
    if (!target) throw new HarnessError(`endpoint ${endpoint.name} cannot take connections over IPC: this Service only hands connections over`);
    const route: Route = { name: endpoint.name, target, unsent: new Set() };
    this.routes.push(route);
    // A replica that dies before its channel took a connection: that connection is reset here
    // (Node keeps such handles queued for an acknowledgement that will never come).
    void target.exited.then(() => {
      for (const s of route.unsent) s.resetAndDestroy();
      route.unsent.clear();
    });
    this.journal.record({ source: 'platform', type: 'replica.joined-service', target: endpoint.name, detail: { endpoints: this.routes.length } });
  }

  remove(name: string, reason: string): void {
    const i = this.routes.findIndex((r) => r.name === name);
    if (i < 0) return;
    this.routes.splice(i, 1);
    this.journal.record({ source: 'platform', type: 'replica.left-service', target: name, detail: { reason, endpoints: this.routes.length } });
  }

  endpointNames(): string[] {
    return this.routes.map((r) => r.name);
  }

  /** Stops accepting. Connections already handed over belong to their replicas and end with them. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // Not server.close(cb): its callback waits for every connection ever handed over to close in
    // the replicas. The listening socket itself is closed at once.
    server.close();
    for (const r of this.routes) for (const s of r.unsent) s.resetAndDestroy();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private route(socket: Socket): void {
    socket.on('error', () => undefined); // never read here; a reset before the handoff is the client's business
    const route = this.pick();
    if (!route) {
      // No ready endpoint: kube-proxy rejects the connection; a reset is the closest to that here.
      socket.resetAndDestroy();
      return;
    }
    route.unsent.add(socket);
    // keepOpen: this process closes its copy itself once the write is done (below), instead of
    // holding it until the replica acknowledges, which a replica killed meanwhile never does.
    route.target.handOff(HANDOFF_MESSAGE, socket, (err) => {
      if (!route.unsent.delete(socket)) return; // already reset: the replica exited first
      // Sent: the kernel holds the connection for the replica now; closing this copy sends nothing.
      // Not sent (the channel closed): this copy is the only one, so the client sees a reset.
      if (err) socket.resetAndDestroy();
      else socket.destroy();
    });
  }

  private pick(): Route | undefined {
    if (this.routes.length === 0) return undefined;
    this.next = (this.next + 1) % this.routes.length;
    return this.routes[this.next];
  }
}
