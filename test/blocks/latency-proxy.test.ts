import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { LatencyProxy } from '../../harness/platform/local/latency-proxy.js';
import type { NetworkDelay } from '../../harness/platform/local/network-delay.js';
import { closed, connectTo, median, pingMs, pings, readAll, startServer, type TestServer } from './sockets.js';

/** The latency proxy on real loopback sockets, with an echo server (or a scripted one) upstream. */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(onSocket?: (s: Socket) => void, allowHalfOpen = false): Promise<{ upstream: TestServer; proxy: LatencyProxy }> {
  const upstream = await startServer(onSocket, allowHalfOpen);
  const proxy = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: upstream.port });
  cleanups.push(() => upstream.close(), () => proxy.close());
  return { upstream, proxy };
}

async function client(port: number, allowHalfOpen = false): Promise<Socket> {
  const s = await connectTo(port, allowHalfOpen);
  s.on('error', () => undefined);
  cleanups.push(() => void s.destroy());
  return s;
}

const delay = (latencyMs: number, direction: NetworkDelay['direction'], jitterMs = 0, correlation = 0): NetworkDelay => ({ latencyMs, jitterMs, correlation, direction });

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
    expect(median(rtts) - before).toBeGreaterThanOrEqual(expectedMs - 2);
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
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThanOrEqual(20 - 1);
      expect(rtt).toBeLessThan(100 + 20);
    }
    expect(Math.max(...rtts) - Math.min(...rtts)).toBeGreaterThan(20);
  });

  it('correlation 100 holds the delay (near) constant; correlation 0 varies it', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port);
    proxy.setDelay(delay(60, 'to', 40, 100));
    const held = await pings(s, 15);
    expect(Math.max(...held) - Math.min(...held)).toBeLessThan(10);
    proxy.setDelay(delay(60, 'to', 40, 0));
    const free = await pings(s, 15);
    expect(Math.max(...free) - Math.min(...free)).toBeGreaterThan(25);
  });

  it('never reorders a byte stream under heavy jitter', async () => {
    const { proxy } = await setup();
    const s = await client(proxy.port, true);
    proxy.setDelay(delay(20, 'both', 19, 0));
    const sent = Buffer.from(Array.from({ length: 3000 }, (_, i) => `${i},`).join(''));
    const received = readAll(s);
    for (let at = 0; at < sent.length; at += 7) {
      s.write(sent.subarray(at, at + 7));
      if (at % 70 === 0) await new Promise((r) => setImmediate(r));
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

describe('latency proxy: plain pipe', () => {
  it('adds < 1 ms median round trip when no delay is set', async () => {
    const { upstream, proxy } = await setup();
    const direct = await client(upstream.port);
    const proxied = await client(proxy.port);
    await pings(direct, 50);
    await pings(proxied, 50);
    const overhead = median(await pings(proxied, 300)) - median(await pings(direct, 300));
    expect(overhead).toBeLessThan(1);
    expect(proxy.stats()).toMatchObject({ delayedChunksTo: 0, delayedChunksFrom: 0 });
  });

  it('passes a half-close through after the bytes before it, both ways', async () => {
    const { proxy } = await setup((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
    }, true);
    proxy.setDelay(delay(30, 'both'));
    const s = await client(proxy.port, true);
    const reply = readAll(s);
    s.end('hello, half-closed world');
    expect((await reply).toString()).toBe('HELLO, HALF-CLOSED WORLD');
  });

  it('passes a reset on either side to the other', async () => {
    const { upstream, proxy } = await setup((s) => s.on('data', () => s.resetAndDestroy()));
    const s = await client(proxy.port);
    const end = closed(s);
    s.write('x');
    expect((await end).error?.code).toBe('ECONNRESET');

    const seen = closed(await new Promise<Socket>((resolve) => {
      upstream.server.once('connection', resolve);
      void client(proxy.port).then((c) => setTimeout(() => c.resetAndDestroy(), 20));
    }));
    expect((await seen).error?.code).toBe('ECONNRESET');
  });

  it.each([
    ['no delay', undefined],
    ['a delay', delay(50, 'to')],
  ] as const)('applies backpressure with %s instead of buffering without bound', async (_, spec) => {
    const { upstream, proxy } = await setup((s) => s.pause());
    if (spec) proxy.setDelay(spec);
    const s = await client(proxy.port);
    await writeFor(s, 1500);
    expect(proxy.stats().bytesTo).toBeLessThan(32 * 1024 * 1024);
    expect(proxy.stats().heldBytes).toBeLessThanOrEqual(4 * 1024 * 1024 + 64 * 1024);
    expect(s.writableLength).toBeGreaterThan(0);
    const [server] = [...upstream.sockets];
    let got = 0;
    server?.on('data', (c: Buffer) => (got += c.length));
    server?.resume();
    const until = performance.now() + 10_000;
    while (got < s.bytesWritten && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(got).toBe(s.bytesWritten);
  });
});

/** Writes 64 KiB chunks for `ms`, waiting for 'drain' (at most 50 ms at a time) whenever told to. */
async function writeFor(s: Socket, ms: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 1);
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (s.write(chunk)) continue;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        s.off('drain', done);
        resolve();
      };
      const timer = setTimeout(done, 50);
      s.once('drain', done);
    });
  }
}

describe('latency proxy: close', () => {
  it('destroys every connection and the listener, leaving no socket', async () => {
    const { upstream, proxy } = await setup();
    const sockets = await Promise.all([1, 2, 3].map(() => client(proxy.port)));
    await Promise.all(sockets.map((s) => pingMs(s)));
    proxy.setDelay(delay(1000, 'to'));
    sockets[0]?.write('held');
    expect(proxy.stats().openConnections).toBe(3);
    const ends = sockets.map(closed);
    await proxy.close();
    await Promise.all(ends);
    expect(proxy.stats()).toMatchObject({ openConnections: 0, heldBytes: 0 });
    const until = performance.now() + 2000;
    while (upstream.sockets.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(upstream.sockets.size).toBe(0);
    await expect(connectTo(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.close();
  });
});
