/**
 * A latency proxy as its own process, as the Service is: the bytes it holds and releases must not
 * share an event loop with the load generator whose latencies they would distort. Controlled
 * over IPC (latency-proxy-protocol.ts); exits when the harness goes away.
 */
import { LatencyProxy } from './latency-proxy.js';
import type { LatencyProxyCommand, LatencyProxyMessage } from './latency-proxy-protocol.js';

const send = (msg: LatencyProxyMessage): void => {
  process.send?.(msg);
};

const proxy = await LatencyProxy.start({
  upstreamHost: process.env['UPSTREAM_HOST'] ?? '127.0.0.1',
  upstreamPort: Number(process.env['UPSTREAM_PORT']),
});

process.on('message', (cmd: LatencyProxyCommand) => {
  try {
    if (cmd.op === 'set-delay') proxy.setDelay(cmd.delay);
    else if (cmd.op === 'clear-delay') proxy.clearDelay();
    send({ event: 'reply', seq: cmd.seq, ...(cmd.op === 'stats' ? { stats: proxy.stats() } : {}) });
  } catch (err) {
    send({ event: 'reply', seq: cmd.seq, error: err instanceof Error ? err.message : String(err) });
  }
});

const shutdown = (): void => {
  void proxy.close().then(() => process.exit(0));
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => undefined); // the harness decides when the proxy stops

send({ event: 'listening', port: proxy.port });
