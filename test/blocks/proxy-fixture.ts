import { afterEach } from 'vitest';
import type { Socket } from 'node:net';
import { LatencyProxy } from '../../harness/platform/local/latency-proxy.js';
import type { NetworkDelay } from '../../harness/platform/local/network-delay.js';
import { connectTo, startServer, type TestServer } from './sockets.js';

/** A latency proxy in front of a real loopback server, torn down after each test. */
export function useProxyFixture(): {
  setup: (onSocket?: (s: Socket) => void, allowHalfOpen?: boolean) => Promise<{ upstream: TestServer; proxy: LatencyProxy }>;
  client: (port: number, allowHalfOpen?: boolean) => Promise<Socket>;
} {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const setup = async (onSocket?: (s: Socket) => void, allowHalfOpen = false) => {
    const upstream = await startServer(onSocket, allowHalfOpen);
    const proxy = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: upstream.port });
    cleanups.push(() => upstream.close(), () => proxy.close());
    return { upstream, proxy };
  };
  const client = async (port: number, allowHalfOpen = false) => {
    const s = await connectTo(port, allowHalfOpen);
    s.on('error', () => undefined);
    cleanups.push(() => void s.destroy());
    return s;
  };
  return { setup, client };
}

export const delay = (latencyMs: number, direction: NetworkDelay['direction'], jitterMs = 0, correlation = 0): NetworkDelay => ({ latencyMs, jitterMs, correlation, direction });
