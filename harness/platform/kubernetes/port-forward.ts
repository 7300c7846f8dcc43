import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import type { EventSink } from '../../core/journal.js';

/** A ready pod behind the Service, and the container port the Service's targetPort resolves to. */
export interface ForwardTarget {
  pod: string;
  port: number;
}

export interface ForwarderOptions {
  kc: KubeConfig;
  namespace: string;
  /** The Service's name, for the journal. */
  service: string;
  /** Ready pods behind the Service, at the moment a connection arrives. */
  targets: () => ForwardTarget[];
  /** Is this pod still alive and ready? (a stream that breaks to a live pod is the port-forward's own failure) */
  isReady: (pod: string) => boolean;
  journal: EventSink;
  /** Pods tried per connection before it is refused. */
  attempts?: number;
}

/** How long after a stream broke its pod must still be ready for the break to be the port-forward's. */
export const BREAK_CONFIRM_MS = 3_000;

type WebSocketLike = { close(): void; on(event: 'close' | 'error', listener: (...args: unknown[]) => void): unknown; readyState: number };

/**
 * `kubectl port-forward svc/...`, but resilient: a listener on 127.0.0.1 whose every connection is
 * forwarded over its own WebSocket (client-node's PortForward serves one port of one pod) to a
 * ready pod behind the Service, round-robin. A connection whose stream cannot be opened to one pod
 * is tried on the next, so a dead or dying pod costs the client nothing at connect; a stream that
 * breaks while its pod is still ready is the port-forward's failure, journalled as such
 * (`portforward.*` events), never as the service's.
 */
export class ServiceForwarder {
  private server?: Server;
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private readonly sockClosers = new Set<() => void>();
  readonly stats = { connections: 0, forwarded: 0, retried: 0, refused: 0, broken: 0, byPod: new Map<string, number>() };
  private closed = false;
  /** Breaks waiting to be judged (BREAK_CONFIRM_MS), each with its judgement. */
  private readonly judges = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly options: ForwarderOptions) {}

  /** Listens on 127.0.0.1 (an ephemeral port); returns http://127.0.0.1:<port>. */
  async listen(): Promise<string> {
    const server = (this.server = createServer({ pauseOnConnect: true }, (socket) => void this.handle(socket)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the port-forward listener has no port');
    return `http://127.0.0.1:${address.port}`;
  }

  private pick(exclude: Set<string>): ForwardTarget | undefined {
    const all = this.options.targets().filter((t) => !exclude.has(t.pod));
    if (all.length === 0) return undefined;
    return all[this.next++ % all.length];
  }

  private async handle(socket: Socket): Promise<void> {
    this.stats.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const tried = new Set<string>();
    const attempts = this.options.attempts ?? 3;
    for (let i = 0; i < attempts && !socket.destroyed && !this.closed; i++) {
      const target = this.pick(tried);
      if (!target) break;
      tried.add(target.pod);
      try {
        await this.forward(socket, target);
        this.stats.forwarded++;
        this.stats.byPod.set(target.pod, (this.stats.byPod.get(target.pod) ?? 0) + 1);
        return;
      } catch (err) {
        this.stats.retried++;
        this.options.journal.record({
          source: 'platform',
          type: 'portforward.connect-failed',
          target: target.pod,
          detail: { port: target.port, error: (err as Error).message ?? String(err), attempt: i + 1 },
        });
      }
    }
    // No ready pod to forward to: as a Service without endpoints, the connection is refused (reset).
    this.stats.refused++;
    socket.resetAndDestroy();
  }

  /** Opens the stream to one pod and pipes the socket through it; rejects if it cannot open. */
  private async forward(socket: Socket, target: ForwardTarget): Promise<void> {
    const { kc, namespace, journal } = this.options;
    let errorText = '';
    const output = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        if (socket.destroyed) return done();
        socket.write(chunk) ? done() : socket.once('drain', () => done());
      },
    });
    const errors = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        errorText += chunk.toString('utf8');
        done();
      },
    });
    const pf = new PortForward(kc, true);
    const ws = (await pf.portForward(namespace, target.pod, [target.port], output, errors, socket)) as unknown as WebSocketLike;
    if (socket.destroyed || this.closed) {
      ws.close();
      throw new Error('the client left before the stream opened');
    }
    let clientGone = false;
    socket.once('close', () => {
      clientGone = true;
      ws.close();
    });
    // The client ended or reset its side: client-node then closes the stream itself (no status
    // code), which is the client leaving, not a break — also when that close lands before 'close'.
    socket.once('end', () => void (clientGone = true));
    socket.once('error', () => void (clientGone = true));
    ws.on('close', (code: unknown) => {
      if (clientGone) return;
      // A close frame without an error is the pod's side ending the connection (the server closed
      // it, e.g. an idle keep-alive connection): 1000, or 1005 when the frame carries no status.
      // Only a stream that ended without a close frame (1006) or with an error is a break.
      const normal = (code === 1000 || code === 1005) && !errorText;
      if (!normal && this.options.isReady(target.pod)) {
        // A killed pod's streams close before the API says it is gone: judged once the watch has
        // had time to tell. Still ready then, the break is the port-forward's, not the service's.
        const error = errorText.trim() || 'stream closed';
        const brokeAt = Date.now();
        const judgement = (): void => {
          this.judges.delete(timer);
          clearTimeout(timer);
          if (!this.options.isReady(target.pod)) return;
          this.stats.broken++;
          journal.record({ source: 'platform', type: 'portforward.broken', target: target.pod, detail: { port: target.port, error, podReadyForMs: Date.now() - brokeAt, closeCode: String(code) } });
        };
        const timer = setTimeout(judgement, BREAK_CONFIRM_MS);
        timer.unref();
        this.judges.set(timer, judgement);
      }
      // The pod's end shows to the client as its connection's end, as in-cluster (a reset if data was lost).
      if (errorText) socket.resetAndDestroy();
      else socket.end();
    });
    ws.on('error', () => undefined);
    const closer = (): void => ws.close();
    this.sockClosers.add(closer);
    socket.once('close', () => this.sockClosers.delete(closer));
    socket.resume();
  }

  async close(): Promise<void> {
    // Breaks not judged yet are judged now, on what the watch says at this moment.
    for (const judgement of [...this.judges.values()]) judgement();
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    for (const c of this.sockClosers) c();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
