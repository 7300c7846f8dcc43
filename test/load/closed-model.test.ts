import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { createLoadDriver } from '../../harness/load/index.js';
import type { LoadPlan, LoadSummary } from '../../harness/load/types.js';
import { DEFAULT_TASK_API_MIX as DEFAULT_MIX, taskApiWorkload } from '../../harness/load/presets/task-api.js';
import { RecordingSink, countBy, delay, realClock, taskIds } from './recording-sink.js';
import { startTaskServer, type Faults, type TaskServer } from './task-server.js';

let server: TaskServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function closedPlan(over: Partial<Extract<LoadPlan, { model: 'closed' }>> = {}): LoadPlan {
  return { model: 'closed', connections: 8, timeoutMs: 2_000, workload: taskApiWorkload(), seed: 1, ...over };
}

/**
 * Runs for `ms`, then on until `enough` holds (at most 10 s more): a busy shared machine slows the
 * traffic, and the assertions need a minimum of it, not a rate.
 */
async function runClosed(
  faults: Partial<Faults>,
  ms: number,
  enough: (s: TaskServer) => boolean = () => true,
  plan = closedPlan(),
): Promise<{ sink: RecordingSink; summary: LoadSummary; s: TaskServer }> {
  const s = await startTaskServer(faults);
  server = s;
  const sink = new RecordingSink();
  const run = createLoadDriver(plan, realClock()).start({ url: s.url, pools: taskIds([...s.tasks.keys()]) }, sink, new AbortController().signal);
  await delay(ms);
  for (let waited = 0; !enough(s) && waited < 10_000; waited += 20) await delay(20);
  run.stop();
  const summary = await run.done;
  return { sink, summary, s };
}

describe('closed model', () => {
  it('reports exactly the responses the server sent, and drains in-flight requests on stop', async () => {
    const { sink, summary, s } = await runClosed({ delayMs: 2 }, 1_000, (t) => t.stats.responded > 500);
    expect(s.stats.responded).toBeGreaterThan(500);
    expect(sink.responses.length).toBe(s.stats.responded);
    expect(sink.errors).toEqual([]);
    expect(summary.sent).toBe(s.stats.received);
    expect(summary.completed).toBe(summary.sent);
    expect(s.stats.maxConcurrent).toBeLessThanOrEqual(8);
  });

  it('routes each status to the sink as the server sent it', async () => {
    const { sink, s } = await runClosed({ status503Every: 7 }, 800, (t) => t.stats.status503 > 20);
    const statuses = sink.statuses();
    expect(statuses['503']).toBe(s.stats.status503);
    expect(s.stats.status503).toBeGreaterThan(20);
    expect((statuses['200'] ?? 0) + (statuses['201'] ?? 0) + (statuses['503'] ?? 0)).toBe(sink.responses.length);
    expect(statuses['404']).toBeUndefined(); // reads and updates target existing rows only
  });

  it('draws the mix in its proportions and records acknowledged writes', async () => {
    const { sink, summary, s } = await runClosed({}, 1_000, (t) => t.stats.responded > 1_000);
    const n = sink.responses.length;
    const byOp = countBy(sink.responses.map((r) => DEFAULT_MIX[r.op]?.op ?? '?')); // the preset keeps the mix's order
    expect(n).toBeGreaterThan(1_000);
    expect(Math.abs((byOp.get ?? 0) / n - 0.8)).toBeLessThan(0.04);
    expect((byOp.create ?? 0) / n).toBeGreaterThan(0.07);
    expect((byOp.create ?? 0) / n).toBeLessThan(0.13);
    const creates = summary.acknowledgedWrites.filter((w) => w.op === 'create');
    const updates = summary.acknowledgedWrites.filter((w) => w.op === 'update');
    expect(creates.length).toBe(byOp.create);
    expect(updates.length).toBe(byOp.update);
    const updated = new Set(updates.map((w) => w.id));
    for (const w of creates) {
      expect(w.fields?.id).toBe(w.id);
      if (!updated.has(w.id)) expect(s.tasks.get(w.id)).toEqual(w.fields);
    }
  });

  it('sends the same op sequence for the same seed', async () => {
    const plan = closedPlan({ connections: 1, seed: 42 });
    const enough = (t: TaskServer): boolean => t.stats.log.length >= 300;
    const first = (await runClosed({}, 400, enough, plan)).s.stats.log.slice(0, 300);
    await server?.close();
    const second = (await runClosed({}, 400, enough, plan)).s.stats.log.slice(0, 300);
    await server?.close();
    const other = (await runClosed({}, 400, enough, closedPlan({ connections: 1, seed: 43 }))).s.stats.log.slice(0, 300);
    expect(first.length).toBe(300);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('honours Connection: close without losing requests', async () => {
    const { sink, s } = await runClosed({ closeAfter: 3 }, 800, (t) => t.stats.responded > 200);
    expect(sink.errors).toEqual([]);
    expect(sink.responses.length).toBe(s.stats.responded);
    expect(s.stats.responded).toBeGreaterThan(200);
  });

  it('keeps one keep-alive connection per loop, each with exactly one request in flight', async () => {
    // A bare server that sees sockets: the Task server counts requests, not connections.
    const inFlight = new Map<Socket, number>();
    let overlapped = 0;
    let answered = 0;
    const bare = http.createServer((req, res) => {
      const n = (inFlight.get(req.socket) ?? 0) + 1;
      inFlight.set(req.socket, n);
      if (n > 1) overlapped++;
      req.resume();
      setTimeout(() => {
        inFlight.set(req.socket, (inFlight.get(req.socket) ?? 1) - 1);
        answered++;
        res.end('{}');
      }, 1);
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
      const plan = closedPlan({ connections: 5, workload: taskApiWorkload([{ op: 'get', weight: 1 }]) });
      const run = createLoadDriver(plan, realClock()).start({ url, pools: taskIds([1]) }, new RecordingSink(), new AbortController().signal);
      await delay(600);
      run.stop();
      const summary = await run.done;
      expect(answered).toBeGreaterThan(100);
      expect(summary.completed).toBe(answered);
      expect(inFlight.size).toBe(5); // no connection opened per request, none beyond `connections`
      expect(overlapped).toBe(0); // pipelining never: the next request waits for the answer
    } finally {
      bare.closeAllConnections();
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    }
  });

  it('sends nothing when its signal is already aborted', async () => {
    const s = await startTaskServer({});
    server = s;
    const aborted = AbortSignal.abort();
    const summary = await createLoadDriver(closedPlan(), realClock()).start({ url: s.url, pools: taskIds([1]) }, new RecordingSink(), aborted).done;
    expect(summary).toMatchObject({ sent: 0, completed: 0 });
    expect(s.stats.received).toBe(0);
  });

  it('is driven by undici: the harness never loads autocannon (a reference for the bench only)', async () => {
    const root = new URL('../../', import.meta.url);
    const files = (await readdir(new URL('harness/', root), { recursive: true })).filter((f) => /\.(ts|mjs|js)$/.test(f));
    const importers: string[] = [];
    for (const f of files) {
      if (/from\s+['"]autocannon['"]|import\(\s*['"]autocannon['"]|require\(\s*['"]autocannon['"]/.test(await readFile(new URL(`harness/${f}`, root), 'utf8'))) importers.push(f);
    }
    expect(importers).toEqual([]);
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg['dependencies']?.['autocannon']).toBeUndefined();
    expect(pkg['devDependencies']?.['autocannon']).toBeDefined();
  });

  it('sends nothing for a request whose pool is empty, counts it per pool and says so once', async () => {
    const s = await startTaskServer({}, 10);
    server = s;
    const empty: string[] = [];
    const driver = createLoadDriver(closedPlan({ connections: 2, workload: taskApiWorkload([{ op: 'get', weight: 1 }]) }), realClock());
    const run = driver.start({ url: s.url, pools: taskIds([]), onPoolEmpty: (p) => empty.push(p) }, new RecordingSink(), new AbortController().signal);
    await delay(200);
    run.stop();
    const summary = await run.done;
    expect(summary.sent).toBe(0);
    expect(summary.skipped['taskIds']).toBeGreaterThan(5);
    expect(empty).toEqual(['taskIds']);
    expect(s.stats.responded).toBe(0);
  });

  it('refuses a non-loopback target before sending anything', () => {
    const driver = createLoadDriver(closedPlan(), realClock());
    expect(() => driver.start({ url: 'http://10.0.0.1:80', pools: taskIds([1]) }, new RecordingSink(), new AbortController().signal)).toThrow(/not loopback/);
  });
});
