import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runGameDay } from '../../harness/run/gameday.js';

/** A Task-API-shaped server whose outage the test switches on and off at known instants. */
class OutageServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private failing = false;
  private hanging = false;
  port = 0;

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      if (this.failing) return void res.writeHead(503, { 'retry-after': '1' }).end('{"error":"down"}');
      // A hang: the request is read and never answered; the client's timeout ends it.
      if (this.hanging) return void req.resume();
      if (req.url === '/health') return void res.end('{"status":"ok"}');
      if (req.method === 'GET' && req.url?.startsWith('/tasks?')) return void res.end('{"items":[{"id":1},{"id":2},{"id":3}],"next_cursor":null}');
      if (req.method === 'POST') return void req.resume().on('end', () => res.writeHead(201).end('{"id":4,"title":"t"}'));
      req.resume().on('end', () => res.end('{"id":1,"title":"t"}'));
    });
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Connections refused and reset: the listener closes and every open connection is destroyed. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server?.close(() => r()));
  }

  serve503(on: boolean): void {
    this.failing = on;
  }

  hang(on: boolean): void {
    this.hanging = on;
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}

const scenario = (url: string) => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: calibration }
spec:
  duration: 7s
  warmup: 1s
  target: { url: "${url}" }
  load: { model: closed, connections: 8, mix: { get: 90, list: 10 } }
  checks: [{ id: P95, name: p95, metric: latency.p95, during: [baseline], target: "< 500ms" }]
`;

async function at(clock: SystemClock, ms: number): Promise<number> {
  while (clock.now() < ms) await new Promise((r) => setTimeout(r, Math.min(5, ms - clock.now())));
  return clock.now();
}

/**
 * Open model at 200 req/s with a client timeout of 1 s or 5 s; one connection per request that
 * can be outstanding (rate × timeout), so each waits on its own and times out on its own.
 */
const openScenario = (url: string, timeout: string, connections: number) => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: calibration-hang }
spec:
  duration: 9s
  warmup: 1s
  target: { url: "${url}" }
  load: { model: open, rate: 200, connections: ${connections}, timeout: ${timeout}, mix: { get: 90, list: 10 } }
  checks: [{ id: P95, name: p95, metric: latency.p95, during: [baseline], target: "< 500ms" }]
`;

describe('client-observed disruption is measured within 100 ms of an outage of known length, by when requests were meant to be sent', () => {
  // Made when the block runs, not when it is collected: a filtered-out block runs no hooks.
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'gd-cal-'));
  });
  let server: OutageServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each([
    { mode: 'refused connections', startMs: 3340, lengthMs: 2170 },
    { mode: '503 responses', startMs: 2710, lengthMs: 1430 },
  ])('$mode for $lengthMs ms', async ({ mode, startMs, lengthMs }) => {
    const srv = new OutageServer();
    server = srv;
    await srv.listen();
    const { plan } = planFromText(scenario(`http://127.0.0.1:${srv.port}`), { env: {} });
    const clock = new SystemClock();
    const controller = new AbortController();
    // The run clock restarts at zero when load starts (the first progress tick); from then on the
    // test breaks the server at known instants of that clock.
    let started!: () => void;
    const loadStarted = new Promise<void>((r) => (started = r));
    const running = runGameDay(plan!, { outDir: out, signal: controller.signal, clock, onTick: () => started() });
    await loadStarted;
    const truthStart = await at(clock, startMs);
    if (mode === '503 responses') srv.serve503(true);
    else await srv.refuse();
    const truthEnd = await at(clock, startMs + lengthMs);
    if (mode === '503 responses') srv.serve503(false);
    else await srv.listen();
    const outcome = await running;
    expect(outcome.status).toBe('completed');
    const disruptions = outcome.analysis!.disruptions;
    expect(disruptions).toHaveLength(1);
    const d = disruptions[0]!;
    expect(Math.abs(d.startMs - truthStart)).toBeLessThan(100);
    expect(Math.abs(d.endMs - truthEnd)).toBeLessThan(100);
    expect(Math.abs(d.durationMs - (truthEnd - truthStart))).toBeLessThan(100);
    expect(d.failures).toBeGreaterThan(0);
    if (mode === '503 responses') expect(d.status5xx).toBe(d.failures);
    else expect(d.transportErrors.total).toBe(d.failures);
  });


  it.each([
    { timeout: '1s', connections: 220 },
    { timeout: '5s', connections: 1000 },
  ])('4000 ms without answers, client timeout $timeout', async ({ timeout, connections }) => {
    const srv = new OutageServer();
    server = srv;
    await srv.listen();
    const { plan, problems } = planFromText(openScenario(`http://127.0.0.1:${srv.port}`, timeout, connections), { env: {} });
    expect(problems).toBeUndefined();
    const clock = new SystemClock();
    let started!: () => void;
    const loadStarted = new Promise<void>((r) => (started = r));
    const running = runGameDay(plan!, { outDir: out, signal: new AbortController().signal, clock, onTick: () => started() });
    await loadStarted;
    const truthStart = await at(clock, 2_610);
    srv.hang(true);
    const truthEnd = await at(clock, 2_610 + 4_000);
    srv.hang(false);
    const outcome = await running;
    expect(outcome.status).toBe('completed');
    const [d, ...others] = outcome.analysis!.disruptions;
    expect(others).toEqual([]);
    expect(Math.abs(d!.startMs - truthStart)).toBeLessThan(100);
    expect(Math.abs(d!.endMs - truthEnd)).toBeLessThan(100);
    // Every request that met the hang failed: by timeout, or dropped when maxInFlight was reached.
    expect(d!.transportErrors.timeout + (d!.failures - d!.transportErrors.total - d!.status5xx)).toBe(d!.failures);
    expect(d!.failures).toBeGreaterThan(0.9 * 200 * 4);
  });
});

describe('client RTO of a total outage on the local platform', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'gd-cal-all-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('pod-kill mode all: client RTO is within 100 ms of the first replacement joining the Service', async () => {
    const { plan, problems } = planFromText(
      `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kill-all }
spec:
  duration: 10s
  warmup: 1s
  platform: { local: { replicas: 3, seedRows: 200, readinessProbe: { period: 100ms } } }
  load: { model: closed, connections: 8 }
  faults: [{ name: kill-all, kind: pod-kill, at: 3s, duration: 4s, mode: all }]
  recovery: { window: 3s, sustain: 2s }
  checks: [{ id: RTO, name: client rto, metric: rto.client, target: "< 30s" }]
`,
      { env: {} },
    );
    expect(problems).toBeUndefined();
    const outcome = await runGameDay(plan!, { outDir: out, signal: new AbortController().signal });
    expect(outcome.status).toBe('completed');
    const events = outcome.analysis!.events;
    const killedAt = Math.min(...events.filter((e) => e.type === 'replica.killed').map((e) => e.atMs));
    expect(events.filter((e) => e.type === 'replica.killed')).toHaveLength(3);
    const firstBack = events.find((e) => e.type === 'replica.joined-service' && e.atMs > killedAt)!;
    const truth = firstBack.atMs - killedAt;
    const client = outcome.analysis!.rtos[0]!.client;
    expect(client.recovered).toBe(true);
    expect(Math.abs(client.rtoMs! - truth)).toBeLessThan(100);
  });
});
