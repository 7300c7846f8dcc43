import { describe, expect, it } from 'vitest';
import { LatencyProxy } from '../../harness/platform/local/latency-proxy.js';
import { delay, useProxyFixture } from './proxy-fixture.js';
import { median, pingMs, pings, quantile, readAll } from './sockets.js';

/** The latency proxy's delay on real loopback sockets, with an echo server upstream. */

const { setup, client } = useProxyFixture();

describe('latency proxy: delay', () => {
  it.each([
    ['to', 100],
    ['from', 100],
    ['both', 200],
  ] as const)("direction '%s' adds one delay per delayed leg (%i ms per round trip)", async (direction, expectedMs) => {
    const { proxy } = await setup();
    const s = await client(proxy.port);
    const before = median(await pings(s, 5));
    proxy.setDelay(delay(100, direction));
    const rtts = await pings(s, 5);
    // Every round trip waits at least the delay; a noisy baseline must not hide or fake growth.
    expect(median(rtts)).toBeGreaterThanOrEqual(expectedMs - 1);
    expect(median(rtts) - before).toBeLessThan(expectedMs + 25);
    const stats = proxy.stats();
    expect(stats.delayedChunksTo > 0).toBe(direction !== 'from');
    expect(stats.delayedChunksFrom > 0).toBe(direction !== 'to');
  });

  it('keeps every sample within latency ± jitter', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port);
    proxy.setDelay(delay(60, 'to', 40));
    const rtts = await pings(s, 30);
    // Never sooner than latency − jitter; later only by scheduling noise, so judge the 90th percentile.
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(20 - 1);
    expect(quantile(rtts, 0.9)).toBeLessThan(100 + 15);
    expect(quantile(rtts, 0.75) - quantile(rtts, 0.25)).toBeGreaterThan(15);
  });

  it('correlation 100 holds the delay (near) constant; correlation 0 varies it', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port);
    proxy.setDelay(delay(100, 'to', 80, 100));
    const held = await pings(s, 20);
    proxy.setDelay(delay(100, 'to', 80, 0));
    const free = await pings(s, 20);
    // Interquartile ranges: a scheduling hiccup on a loaded machine moves one ping, not the middle half.
    const iqr = (xs: number[]): number => quantile(xs, 0.75) - quantile(xs, 0.25);
    expect(iqr(held)).toBeLessThan(8);
    expect(iqr(free)).toBeGreaterThan(30);
  });

  it('never reorders a byte stream under heavy jitter', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port, true);
    proxy.setDelay(delay(20, 'both', 19, 0));
    const sent = Buffer.from(Array.from({ length: 3000 }, (_, i) => `${i},`).join(''));
    const received = readAll(s);
    for (let at = 0; at < sent.length; at += 7) {
      s.write(sent.subarray(at, at + 7));
      // A pause every 70 bytes, so the proxy (on its own thread) reads many separate chunks.
      if (at % 70 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    s.end();
    expect((await received).toString()).toBe(sent.toString());
    expect(proxy.stats().delayedChunksTo).toBeGreaterThan(50);
  });

  it('clearDelay releases held bytes at once, in order, and new bytes go straight through', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port);
    proxy.setDelay(delay(3000, 'to'));
    const got: string[] = [];
    s.on('data', (c: Buffer) => got.push(c.toString()));
    s.write('a');
    s.write('b');
    await new Promise((r) => setTimeout(r, 100));
    expect(proxy.stats().heldBytes).toBe(2);
    const cleared = performance.now();
    proxy.clearDelay();
    while (got.join('').length < 2 && performance.now() - cleared < 1000) await new Promise((r) => setTimeout(r, 2));
    expect(performance.now() - cleared).toBeLessThan(100);
    expect(got.join('')).toBe('ab');
    expect(proxy.stats()).toMatchObject({ heldBytes: 0, delay: null });
    expect(await pingMs(s)).toBeLessThan(50);
  });

  it('rejects an invalid delay with every problem, and a non-loopback upstream', async () => {
    const { proxy } = await setup();
    expect(() => proxy.setDelay({ latencyMs: -1, jitterMs: Number.NaN, correlation: 101, direction: 'up' as 'to' })).toThrow(
      /latencyMs.*jitterMs.*correlation.*direction/,
    );
    await expect(LatencyProxy.start({ upstreamHost: '10.0.0.1', upstreamPort: 5432 })).rejects.toThrow(/loopback/);
  });
});
