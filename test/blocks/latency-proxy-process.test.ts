import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyProxyProcess } from '../../harness/platform/local/latency-proxy-process.js';
import { isAlive } from '../helpers/leftovers.js';
import { delay } from './proxy-fixture.js';
import { closed, connectTo, median, pings, startServer, type TestServer } from './sockets.js';

/** The latency proxy in a process of its own, controlled over IPC. */

let upstream: TestServer;

beforeAll(async () => {
  upstream = await startServer();
});

afterAll(async () => {
  await upstream?.close();
});

describe('LatencyProxyProcess', () => {
  it('proxies, delays on command, reports stats, and leaves nothing when closed', async () => {
    const proxy = await LatencyProxyProcess.start({ upstreamHost: '127.0.0.1', upstreamPort: upstream.port });
    const pid = proxy.pid as number;
    const s = await connectTo(proxy.port);
    s.on('error', () => undefined);
    try {
      const before = median(await pings(s, 5));
      await proxy.setDelay(delay(80, 'from'));
      const during = median(await pings(s, 5));
      expect(during).toBeGreaterThanOrEqual(80 - 1);
      expect(during - before).toBeLessThan(110);
      expect(await proxy.stats()).toMatchObject({ openConnections: 1, delay: { latencyMs: 80, direction: 'from' } });
      await proxy.clearDelay();
      expect(median(await pings(s, 5))).toBeLessThan(before + 10);
      await expect(proxy.setDelay({ ...delay(10, 'to'), correlation: 200 })).rejects.toThrow(/correlation/);
    } finally {
      const end = closed(s);
      await proxy.close();
      await end;
    }
    expect(isAlive(pid)).toBe(false);
    await expect(connectTo(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(proxy.stats()).rejects.toThrow(/gone/);
    await proxy.close();
  });

  it('refuses a bad upstream before spawning anything', async () => {
    await expect(LatencyProxyProcess.start({ upstreamHost: '127.0.0.1', upstreamPort: Number.NaN })).rejects.toThrow(/port/);
    await expect(LatencyProxyProcess.start({ upstreamHost: 'example.com', upstreamPort: 80 })).rejects.toThrow(/loopback/);
  });
});
