import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { delay, useProxyFixture } from './proxy-fixture.js';
import { closed, connectTo, median, pingMs, pings, readAll } from './sockets.js';

/** The latency proxy as a pipe: overhead, half-close, resets, backpressure, close. */

const { setup, client } = useProxyFixture();

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

  it('resets the client when the upstream refuses', async () => {
    const { upstream, proxy } = await setup();
    await upstream.close();
    // The proxy (in its own thread) may reset the connection before the client has seen it open.
    const reset = await client(proxy.port).then(
      async (s) => (await closed(s)).error?.code,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(reset).toBe('ECONNRESET');
    const until = performance.now() + 2000;
    while (proxy.stats().openConnections > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.stats().openConnections).toBe(0);
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

describe('latency proxy: a thread of its own', () => {
  it("moves and releases bytes while the harness's event loop is blocked", async () => {
    const { proxy } = await setup((s) => s.on('data', () => undefined));
    const s = await client(proxy.port);
    proxy.setDelay(delay(50, 'to'));
    s.write(Buffer.alloc(16 * 1024, 1)); // straight into the kernel's buffer: nothing more to do here
    // Nothing else runs on this thread meanwhile: only a proxy on another thread can change these.
    const seen = { held: 0, bytes: 0 };
    const from = performance.now();
    while (performance.now() - from < 1000) {
      const stats = proxy.stats();
      seen.held = Math.max(seen.held, stats.heldBytes);
      seen.bytes = stats.bytesTo;
      if (seen.held > 0 && stats.heldBytes === 0 && stats.bytesTo === 16 * 1024) break;
    }
    expect(seen.bytes).toBe(16 * 1024);
    expect(seen.held).toBeGreaterThan(0);
    expect(proxy.stats().heldBytes).toBe(0);
  });

  it('ends its thread on close, and refuses a delay afterwards', async () => {
    const { proxy } = await setup();
    expect(proxy.threadAlive).toBe(true);
    await proxy.close();
    expect(proxy.threadAlive).toBe(false);
    expect(() => proxy.setDelay(delay(10, 'to'))).toThrow(/latency proxy is closed/);
    proxy.clearDelay(); // recovering a fault after teardown is harmless
  });
});

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
