import autocannon from 'autocannon';
import type { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { LoadDriver, LoadPlan, LoadRun, LoadSummary, LoadTarget, ResponseSink, TransportErrorKind } from './types.js';
import { assertAutocannonPinned, repairClient, type AutocannonClient, type ClientRepair } from './autocannon-repair.js';
import { Workload, type HttpRequestSpec } from './workload.js';
import { assertLoopback } from './loopback.js';
import { DRAIN_MARGIN_MS, MAX_RUN_MS } from './limits.js';

type ClosedPlan = Extract<LoadPlan, { model: 'closed' }>;
type Instance = EventEmitter & PromiseLike<unknown> & { stop(): void };

/** Links autocannon's per-client request object and context to our per-client state. */
const STATE = Symbol('gameday.load.client');

interface ClientState {
  client: AutocannonClient;
  repair: ClientRepair;
  /** Op and id of the one request in flight (pipelining is 1). */
  op: number;
  id: number;
  idle: boolean;
}

/**
 * Closed model: `connections` autocannon clients, each with one request in flight, sending the
 * next as soon as the previous one is answered. Latency is from the actual send.
 */
export function createClosedDriver(plan: ClosedPlan, clock: Clock): LoadDriver {
  assertAutocannonPinned();
  return { start: (target, sink, signal) => new ClosedRun(plan, clock, target, sink, signal) };
}

class ClosedRun implements LoadRun {
  readonly done: Promise<LoadSummary>;
  private readonly workload: Workload;
  private readonly states = new Map<AutocannonClient, ClientState>();
  private readonly instance: Instance;
  private sent = 0;
  private completed = 0;
  private idleClients = 0;
  private stopping = false;
  private finished = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly runTimer: NodeJS.Timeout;

  constructor(
    private readonly plan: ClosedPlan,
    private readonly clock: Clock,
    target: LoadTarget,
    private readonly sink: ResponseSink,
    signal: AbortSignal,
  ) {
    const origin = assertLoopback(target.url).origin;
    this.workload = new Workload(plan.mix, plan.seed, target.ids);
    this.instance = this.launch(origin);
    this.instance.on('response', (client: AutocannonClient, status: number, _bytes: number, latencyMs: number) =>
      this.onResponse(client, status, latencyMs),
    );
    const onAbort = (): void => this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    this.runTimer = setTimeout(onAbort, MAX_RUN_MS);
    this.done = this.settle(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) this.stop();
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const state of this.states.values()) {
      if (state.repair.cancelReconnect()) this.markIdle(state);
    }
    this.drainTimer = setTimeout(() => this.forceFinish(), this.plan.timeoutMs + DRAIN_MARGIN_MS);
    this.finishIfIdle();
  }

  private launch(origin: string): Instance {
    const options = {
      url: origin,
      connections: this.plan.connections,
      pipelining: 1,
      // A backstop only: the run stops itself (and drains) at MAX_RUN_MS, long before this.
      duration: (2 * MAX_RUN_MS) / 1000,
      // autocannon takes whole seconds (>= 1); setupClient sets the exact timeout in ms.
      timeout: Math.max(1, Math.ceil(this.plan.timeoutMs / 1000)),
      sampleInt: 100,
      skipAggregateResult: true,
      requests: [{ setupRequest: this.setupRequest, onResponse: this.onWriteResponse }],
      setupClient: (client: unknown) => this.setupClient(client as AutocannonClient),
    };
    return autocannon(options as unknown as autocannon.Options) as unknown as Instance;
  }

  private setupClient(client: AutocannonClient): void {
    client.timeout = this.plan.timeoutMs; // read by the timeout ticker, created after this hook
    const repair = repairClient(client, {
      lost: (c, latencyMs, kind) => this.onLost(c, latencyMs, kind),
      sent: () => this.sent++,
      stopping: () => this.stopping,
      idle: (c) => this.markIdle(this.states.get(c)),
    });
    const state: ClientState = { client, repair, op: 0, id: -1, idle: false };
    this.states.set(client, state);
    // The first request was built in the constructor, before this hook: rebuild it with the state.
    client.requestIterator.currentRequest[STATE] = state;
    client.requestIterator.rebuildRequest();
  }

  /** autocannon's per-request hook: draws the op and fills the request in place. */
  private readonly setupRequest = (request: Record<PropertyKey, unknown>, context: Record<PropertyKey, unknown>): unknown => {
    const state = request[STATE] as ClientState | undefined;
    if (!state) return request; // the constructor-time build: replaced in setupClient, never sent
    state.op = this.workload.nextOp();
    state.id = this.workload.fill(request as unknown as HttpRequestSpec, state.op);
    context[STATE] = state;
    return request;
  };

  /** Only 2xx writes are parsed; read bodies are never looked at. */
  private readonly onWriteResponse = (status: number, body: string, context: Record<PropertyKey, unknown>): void => {
    const state = context[STATE] as ClientState | undefined;
    if (state && status >= 200 && status < 300 && this.workload.isWrite(state.op)) {
      this.workload.acknowledge(state.op, state.id, body, this.clock.now());
    }
  };

  private onResponse(client: AutocannonClient, status: number, latencyMs: number): void {
    const state = this.states.get(client);
    if (!state) return;
    this.completed++;
    this.sink.response(state.op, this.clock.now(), latencyMs, status);
  }

  private onLost(client: AutocannonClient, latencyMs: number, kind: TransportErrorKind): void {
    const state = this.states.get(client);
    if (!state) return;
    this.completed++;
    this.sink.transportError(state.op, this.clock.now(), latencyMs, kind);
  }

  private markIdle(state: ClientState | undefined): void {
    if (!state || state.idle) return;
    state.idle = true;
    this.idleClients++;
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.stopping && this.idleClients === this.states.size) this.finish();
  }

  /** The drain deadline: whatever is still in flight has outlived its timeout. */
  private forceFinish(): void {
    for (const state of this.states.values()) {
      if (!state.idle) state.repair.failPending('timeout');
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.drainTimer);
    for (const state of this.states.values()) (state.client as unknown as { destroy(): void }).destroy();
    this.instance.stop();
  }

  private async settle(cleanup: () => void): Promise<LoadSummary> {
    try {
      await this.instance;
    } finally {
      clearTimeout(this.drainTimer);
      clearTimeout(this.runTimer);
      cleanup();
    }
    return { sent: this.sent, completed: this.completed, dropped: 0, acknowledgedWrites: this.workload.writes };
  }
}
