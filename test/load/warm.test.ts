import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoadDriver } from '../../harness/load/index.js';
import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { LoadPlan } from '../../harness/load/types.js';
import { openConnections } from '../../harness/load/warm.js';
import { RecordingSink, delay, realClock, taskIds } from './recording-sink.js';

/** A target that counts its connections and when each request came, and can drop new connections. */
let server: Server;
let url = '';
const open = new Set<Socket>();
let accepted = 0;
let dropNewAfterMs = 0;
const requestsAt: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requestsAt.push(performance.now());
    req.resume();
    req.on('end', () => res.end('{"id":1}'));
  });
  server.on('connection', (s: Socket) => {
    accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
    if (dropNewAfterMs > 0) setTimeout(() => s.destroy(), dropNewAfterMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const plan = (connections: number): Extract<LoadPlan, { model: 'open' }> => ({ model: 'open', ratePerSec: 400, connections, maxInFlight: 200, timeoutMs: 2_000, workload: taskApiWorkload([{ op: 'get', weight: 1 }]), seed: 3 });

async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !until(); i++) await delay(10);
}

describe('connections opened before the run', () => {
  it('are open before the first arrival, carry the first requests without new connections, and are all closed at the end', async () => {
    accepted = 0;
    requestsAt.length = 0;
    const warm = await openConnections(url, {}, 8, 2_000);
    expect(warm.size).toBe(8);
    await settle(() => accepted === 8);
    expect(accepted).toBe(8);
    expect(requestsAt).toEqual([]); // opened, nothing sent
    const sink = new RecordingSink();
    const run = createLoadDriver(plan(8), realClock()).start({ url, pools: taskIds([1, 2, 3]), warm }, sink, new AbortController().signal);
    await delay(500);
    run.stop();
    const summary = await run.done;
    expect(summary.sent).toBeGreaterThan(150);
    expect(sink.errors).toEqual([]);
    expect(sink.responses.length).toBe(summary.sent);
    // At most 8 connections were needed: every one was a warm one.
    expect(accepted).toBe(8);
    await settle(() => open.size === 0);
    expect(open.size).toBe(0);
  });

  it('skips a connection the server closed while it waited, and the run reports no error for it', async () => {
    dropNewAfterMs = 30;
    try {
      const warm = await openConnections(url, {}, 4, 2_000);
      await delay(150); // every warm connection is closed by now
      dropNewAfterMs = 0;
      const sink = new RecordingSink();
      const run = createLoadDriver(plan(4), realClock()).start({ url, pools: taskIds([1, 2, 3]), warm }, sink, new AbortController().signal);
      await delay(300);
      run.stop();
      const summary = await run.done;
      expect(summary.sent).toBeGreaterThan(80);
      expect(sink.errors).toEqual([]);
    } finally {
      dropNewAfterMs = 0;
    }
  });

  it('applies the host policy before any socket, and leaves a refused target to the run', async () => {
    await expect(openConnections('http://192.0.2.1:80', {}, 2, 500)).rejects.toThrow(/not loopback and not an allowed host/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const warm = await openConnections(`http://127.0.0.1:${port}`, {}, 3, 2_000);
    expect(warm.size).toBe(0);
    warm.close();
  });
});
