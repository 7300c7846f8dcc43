import { afterEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { createLoadDriver } from '../../harness/load/index.js';
import { DEFAULT_TASK_API_MIX as DEFAULT_MIX, taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { LoadPlan, LoadSummary } from '../../harness/load/types.js';
import { openConnections } from '../../harness/load/warm.js';
import { RecordingSink, delay, percentile, realClock } from './recording-sink.js';
import { taskIds } from './recording-sink.js';
import { startTaskServer, type Faults, type TaskServer } from './task-server.js';

let server: TaskServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type OpenPlan = Extract<LoadPlan, { model: 'open' }>;
const openPlan = (over: Partial<OpenPlan> = {}): OpenPlan => ({
  model: 'open',
  ratePerSec: 200,
  connections: 10,
  maxInFlight: 500,
  timeoutMs: 2_000,
  workload: taskApiWorkload(),
  seed: 5,
  ...over,
});

interface OpenResult {
  sink: RecordingSink;
  summary: LoadSummary;
  s: TaskServer;
  /** performance.now() when the run started. */
  startedAt: number;
}

async function runOpen(faults: Partial<Faults>, ms: number, plan: OpenPlan, during?: (startedAt: number) => Promise<void>): Promise<OpenResult> {
  const s = await startTaskServer(faults);
  server = s;
  const sink = new RecordingSink();
  // As a run does: the connections are open before its zero.
  const warm = await openConnections(s.url, {}, plan.connections, plan.timeoutMs);
  const startedAt = performance.now();
  const run = createLoadDriver(plan, realClock()).start({ url: s.url, pools: taskIds([...s.tasks.keys()]), warm }, sink, new AbortController().signal);
  await Promise.all([delay(ms), during?.(startedAt)]);
  run.stop();
  return { sink, summary: await run.done, s, startedAt };
}

describe('open model', () => {
  it('holds the arrival rate, evenly spaced, and reports every outcome', async () => {
    const { sink, summary, s, startedAt } = await runOpen({ delayMs: 2 }, 3_000, openPlan({ ratePerSec: 200 }));
    const expected = 200 * 3;
    expect(Math.abs(summary.sent + summary.dropped - expected) / expected).toBeLessThan(0.03);
    expect(summary.dropped).toBe(0);
    expect(s.stats.received).toBe(summary.sent);
    expect(sink.responses.length).toBe(s.stats.responded);
    expect(summary.completed).toBe(summary.sent);
    // per-100 ms send counts at the server: even, not a burst at the start of each second
    const bins = new Array<number>(30).fill(0);
    for (const t of s.stats.receivedAt) {
      const i = Math.floor((t - startedAt) / 100);
      if (i >= 0 && i < bins.length) bins[i] = (bins[i] ?? 0) + 1;
    }
    const even = bins.filter((n) => Math.abs(n - 20) <= 5).length;
    expect(even / bins.length).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...bins)).toBeLessThan(60); // a per-second quota would put ~200 in one bin
  });

  it('measures latency from the intended send time: a stalled server shows its queueing', async () => {
    const stall = { from: 1_000, to: 2_000 };
    // the driver's clock starts with the run, as `t0` does: both count ms from the start
    const { sink } = await runOpen({}, 3_000, openPlan({ ratePerSec: 100 }), async (t0) => {
      await delay(stall.from);
      server!.faults.stallUntil = t0 + stall.to;
    });
    expect(sink.errors).toEqual([]);
    const stalled = sink.responses
      .map((r) => ({ intended: r.endMs - r.latencyMs, latency: r.latencyMs }))
      .filter((r) => r.intended > stall.from + 100 && r.intended < stall.to - 100);
    expect(stalled.length).toBeGreaterThan(60);
    // every request intended during the stall waited until its end: latency = stall end - intended
    for (const r of stalled) expect(Math.abs(r.intended + r.latency - stall.to)).toBeLessThan(200);
    expect(Math.max(...stalled.map((r) => r.latency))).toBeGreaterThan(700);
    const after = sink.responses.filter((r) => r.endMs - r.latencyMs > stall.to + 300).map((r) => r.latencyMs);
    expect(percentile(after, 50)).toBeLessThan(20);
  });

  it('drops arrivals beyond maxInFlight, reports them, and never exceeds it', async () => {
    const { sink, summary, s } = await runOpen({ delayMs: 200 }, 1_500, openPlan({ ratePerSec: 200, maxInFlight: 10 }));
    expect(summary.dropped).toBeGreaterThan(100);
    expect(sink.drops.length).toBe(summary.dropped);
    expect(Math.abs(summary.sent + summary.dropped - 300) / 300).toBeLessThan(0.03);
    expect(s.stats.maxConcurrent).toBeLessThanOrEqual(10);
    expect(summary.completed).toBe(summary.sent);
    expect(sink.responses.length).toBe(summary.sent);
  });

  it('rides out an outage and resumes at the same rate', async () => {
    const first = await startTaskServer({});
    server = first;
    const port = Number(new URL(first.url).port);
    const sink = new RecordingSink();
    const run = createLoadDriver(openPlan({ ratePerSec: 100 }), realClock()).start({ url: first.url, pools: taskIds([1, 2]) }, sink, new AbortController().signal);
    await delay(500);
    await first.refuse();
    await delay(500);
    const second = await startTaskServer({}, 100, port);
    server = second;
    await delay(500);
    run.stop();
    const summary = await run.done;
    expect(sink.errorKinds().refused).toBeGreaterThan(30);
    expect(sink.responses.length).toBe(first.stats.responded + second.stats.responded);
    expect(second.stats.responded).toBeGreaterThan(35);
    expect(Math.abs(summary.sent - 150) / 150).toBeLessThan(0.03);
    expect(summary.completed).toBe(summary.sent);
  });

  it('draws the same op sequence for the same seed', async () => {
    const ops = async (seed: number): Promise<number[]> => {
      const { sink } = await runOpen({}, 300, openPlan({ seed, connections: 1 }));
      await server?.close();
      return [...sink.responses].sort((a, b) => a.endMs - a.latencyMs - (b.endMs - b.latencyMs)).map((r) => r.op);
    };
    const [a, b, c] = [await ops(9), await ops(9), await ops(10)];
    const n = Math.min(a.length, b.length, 50);
    expect(n).toBe(50);
    expect(b.slice(0, n)).toEqual(a.slice(0, n));
    expect(c.slice(0, n)).not.toEqual(a.slice(0, n));
  });
});

describe('open model transport errors', () => {
  const kinds = async (faults: Partial<Faults>, plan: Partial<OpenPlan> = {}, refuse = false): Promise<RecordingSink> => {
    const s = await startTaskServer(faults);
    server = s;
    if (refuse) await s.refuse();
    const sink = new RecordingSink();
    const run = createLoadDriver(openPlan({ ratePerSec: 100, ...plan }), realClock()).start({ url: s.url, pools: taskIds([1, 2, 3]) }, sink, new AbortController().signal);
    await delay(600);
    run.stop();
    const summary = await run.done;
    expect(summary.completed).toBe(summary.sent);
    return sink;
  };

  it('refused: a closed listener', async () => {
    const sink = await kinds({}, {}, true);
    expect(sink.responses).toEqual([]);
    expect(sink.errors.length).toBeGreaterThan(30);
    expect(sink.errorKinds()).toEqual({ refused: sink.errors.length });
  });

  it('reset: the server resets the connection', async () => {
    const sink = await kinds({ resetAtRequest: 1 });
    expect(sink.errors.length).toBeGreaterThan(30);
    expect(sink.errorKinds()).toEqual({ reset: sink.errors.length });
  });

  it('closed: the server closes the connection without answering', async () => {
    const sink = await kinds({ destroyAtRequest: 1 });
    expect(sink.errors.length).toBeGreaterThan(30);
    expect(sink.errorKinds()).toEqual({ closed: sink.errors.length });
  });

  it('timeout: the server never answers', async () => {
    const sink = await kinds({ blackhole: true }, { timeoutMs: 200, connections: 100 });
    expect(sink.responses).toEqual([]);
    expect(sink.errorKinds()).toEqual({ timeout: sink.errors.length });
    expect(sink.errors.length).toBeGreaterThan(30);
    for (const e of sink.errors) expect(e.latencyMs).toBeGreaterThanOrEqual(195);
  });

  it('times out at the client deadline from the intended send, also for requests queued for a connection', async () => {
    // 2 connections, 200 req/s, a server that never answers: nearly every request waits in the
    // pool's queue; each must still be reported at its deadline (undici's own timers are coarse
    // and start only on a connection).
    const { sink, summary } = await runOpen({ blackhole: true }, 1_500, openPlan({ timeoutMs: 300, connections: 2 }));
    expect(summary.completed).toBe(summary.sent);
    expect(sink.errors.length).toBeGreaterThan(200);
    const early = sink.errors.filter((e) => e.latencyMs < 300 - 1);
    const late = sink.errors.filter((e) => e.latencyMs > 300 + 100);
    expect(early).toEqual([]);
    // A busy machine may delay a few sweeps; undici's timers alone would be late for most.
    expect(late.length / sink.errors.length).toBeLessThan(0.03);
  });
});
