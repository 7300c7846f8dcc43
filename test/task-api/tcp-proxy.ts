import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL, to make the database unreachable (`close`: the port
 * refuses connections) or unresponsive (`freeze`: connections are accepted, nothing flows) without
 * touching the database itself, then bring it back (`open`).
 */
export interface TcpProxy {
  port: number;
  url(database: string): string;
  /** Closes the listening port and every proxied connection. */
  close(): Promise<void>;
  /** Keeps the port open but forwards nothing, in either direction, on old or new connections. */
  freeze(): void;
  /** Listens again on the same port and forwards normally. */
  open(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, makeUrl: (port: number, database: string) => string): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let server: Server | undefined;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const onConnection = (client: Socket): void => {
    track(client);
    if (frozen) return;
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        const address = s.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });

  const port = await listen(0);
  return {
    port,
    url: (database) => makeUrl(port, database),
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    open: async () => {
      // Bytes dropped while frozen left those streams corrupt: start from fresh connections.
      if (frozen) for (const socket of sockets) socket.destroy();
      frozen = false;
      if (server === undefined) await listen(port);
    },
  };
}
