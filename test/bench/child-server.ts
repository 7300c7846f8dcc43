import type { Server } from 'node:http';

/**
 * A bench target running as a child process: listens on a free loopback port, tells its parent
 * the port on stdout as `{"event":"listening","port":…}`, and exits with the parent or on SIGTERM.
 */
export function serveAsChild(server: Server): void {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`${JSON.stringify({ event: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
