import { afterEach, describe, expect, it } from 'vitest';
import { createLoadDriver } from '../../harness/load/index.js';
import { DEFAULT_TASK_API_MIX as DEFAULT_MIX, taskApiWorkload } from '../../harness/load/presets/task-api.js';
import { RECONNECT_DELAY_MS } from '../../harness/load/closed-model.js';
import type { LoadPlan, LoadSummary } from '../../harness/load/types.js';
import { RecordingSink, delay, percentile, realClock } from './recording-sink.js';
import { taskIds } from './recording-sink.js';
import { startTaskServer, type Faults, type TaskServer } from './task-server.js';

let server: TaskServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const CONNECTIONS = 10;
const plan = (timeoutMs = 2_000): LoadPlan => ({ model: 'closed', connections: CONNECTIONS, timeoutMs, workload: taskApiWorkload(), seed: 3 });

/** Waits until `enough` holds, at most 10 s: a busy shared machine slows the traffic. */
async function until(enough: () => boolean): Promise<void> {
  for (let waited = 0; !enough() && waited < 10_000; waited += 20) await delay(20);
}

/** Runs for `ms`, then on until `enough` holds (the assertions need a minimum of traffic, not a rate). */
async function runClosed(s: TaskServer, ms: number, timeoutMs?: number, enough: () => boolean = () => true): Promise<{ sink: RecordingSink; summary: LoadSummary }> {
  const sink = new RecordingSink();
  const run = createLoadDriver(plan(timeoutMs), realClock()).start({ url: s.url, pools: taskIds([...s.tasks.keys()]) }, sink, new AbortController().signal);
  await delay(ms);
  await until(enough);
  run.stop();
  return { sink, summary: await run.done };
}

async function start(faults: Partial<Faults>): Promise<TaskServer> {
  server = await startTaskServer(faults);
  return server;
}

/**
 * The closed model when connections die: every request lost in flight is reported once, as the
 * kind of loss, timed from its own send; later requests are timed from theirs (autocannon 9, the
 * former driver, neither reported such requests nor kept later latencies true).
 */
describe('closed model: connection loss', () => {
  // Latency checks use medians and wide margins: server and driver share one process on a
  // shared machine, so samples can be delayed by event-loop stalls; stale start times (the
  // defect this guards against) put the median above 3 × the delay.
  const DELAY_MS = 30;

  it('reports every request lost on a closed connection exactly once, and later latencies stay true', async () => {
    const s = await start({ delayMs: DELAY_MS, destroyAtRequest: 5 });
    const { sink, summary } = await runClosed(s, 1_500, undefined, () => s.stats.destroyed > 30);
    expect(s.stats.destroyed).toBeGreaterThan(30);
    expect(sink.errors.length).toBe(s.stats.destroyed);
    expect(sink.errorKinds()).toEqual({ closed: s.stats.destroyed });
    expect(sink.responses.length).toBe(s.stats.responded);
    expect(summary.completed).toBe(summary.sent);
    const latencies = sink.responses.map((r) => r.latencyMs);
    expect(percentile(latencies, 50)).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(percentile(latencies, 50)).toBeLessThan(DELAY_MS * 2);
    expect(percentile(latencies, 75)).toBeLessThan(DELAY_MS * 2.5);
    // a lost request is timed from its own send to the loss: about the server's delay
    const lost = sink.errors.map((e) => e.latencyMs);
    expect(percentile(lost, 50)).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(percentile(lost, 50)).toBeLessThan(DELAY_MS * 2);
  });

  it('reports a connection that dies mid-response as closed, and parses later responses', async () => {
    const s = await start({ delayMs: 2, truncateAtRequest: 7 });
    const { sink } = await runClosed(s, 1_000, undefined, () => s.stats.truncated > 20);
    expect(s.stats.truncated).toBeGreaterThan(20);
    expect(sink.errorKinds()).toEqual({ closed: s.stats.truncated });
    expect(sink.responses.length).toBe(s.stats.responded);
    expect(new Set(sink.responses.map((r) => r.status))).toEqual(new Set([200, 201]));
  });

  it('reports a reset connection as reset', async () => {
    const s = await start({ delayMs: 5, resetAtRequest: 6 });
    const { sink } = await runClosed(s, 1_000, undefined, () => s.stats.reset > 20);
    expect(s.stats.reset).toBeGreaterThan(20);
    expect(sink.errorKinds()).toEqual({ reset: s.stats.reset });
    expect(sink.responses.length).toBe(s.stats.responded);
  });

  it('reports refused connections and paces reconnects during an outage', async () => {
    const s = await start({});
    await s.refuse();
    const { sink, summary } = await runClosed(s, 500);
    expect(sink.responses).toEqual([]);
    expect(sink.errors.length).toBeGreaterThan(CONNECTIONS);
    expect(sink.errorKinds()).toEqual({ refused: sink.errors.length });
    // without the pause each connection would retry thousands of times a second
    expect(sink.errors.length).toBeLessThanOrEqual((CONNECTIONS * 500) / RECONNECT_DELAY_MS);
    expect(summary.completed).toBe(summary.sent);
  });

  it('rides out an outage: in-flight requests lost, refusals reported, traffic resumes', async () => {
    const first = await start({ delayMs: 50 });
    const port = Number(new URL(first.url).port);
    const sink = new RecordingSink();
    const run = createLoadDriver(plan(), realClock()).start({ url: first.url, pools: taskIds([1, 2, 3]) }, sink, new AbortController().signal);
    await delay(300);
    await first.refuse(); // kills the 10 requests in flight
    await delay(300);
    const second = await startTaskServer({}, 100, port);
    server = second;
    await delay(400);
    await until(() => second.stats.responded > 100);
    run.stop();
    const summary = await run.done;
    const kinds = sink.errorKinds();
    expect((kinds.closed ?? 0) + (kinds.reset ?? 0)).toBe(CONNECTIONS);
    expect(kinds.refused).toBeGreaterThan(CONNECTIONS);
    expect(sink.responses.length).toBe(first.stats.responded + second.stats.responded);
    expect(second.stats.responded).toBeGreaterThan(100);
    expect(summary.completed).toBe(summary.sent);
  });

  it('reports timeouts once, with the latency of the wait', async () => {
    const s = await start({ blackhole: true });
    const { sink, summary } = await runClosed(s, 1_000, 300);
    expect(sink.responses).toEqual([]);
    expect(sink.errorKinds()).toEqual({ timeout: sink.errors.length });
    expect(sink.errors.length).toBeGreaterThanOrEqual(CONNECTIONS * 2);
    expect(sink.errors.length).toBeLessThanOrEqual(CONNECTIONS * 5);
    for (const e of sink.errors) expect(e.latencyMs).toBeGreaterThanOrEqual(295);
    expect(percentile(sink.errors.map((e) => e.latencyMs), 50)).toBeLessThan(400);
    expect(summary.completed).toBe(summary.sent);
  });
});
