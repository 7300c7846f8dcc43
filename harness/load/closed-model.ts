import { createRequire } from 'node:module';
import type { Client } from 'undici';
import type { Clock } from '../core/clock.js';
import type { LoadDriver, LoadPlan, LoadRun, LoadSummary, LoadTarget, ResponseSink, TransportErrorKind } from './types.js';
import { kindOfError } from './transport-errors.js';
import { SKIPPED, Workload, type HttpRequestSpec } from './workload.js';

/** A loop whose request found a pool empty waits this long before drawing the next. */
const SKIP_PAUSE_MS = 10;
import { assertAllowedTarget, guardedConnector } from './loopback.js';
import { MAX_RUN_MS } from './limits.js';

/** undici loads at first use (~0.1 s, ~15 MB): a process running only the open model never needs it. */
const undici = (): typeof import('undici') => createRequire(import.meta.url)('undici') as typeof import('undici');

type ClosedPlan = Extract<LoadPlan, { model: 'closed' }>;

/**
 * Pause before the next request after a transport error when the loop got no response since its
 * previous error (or since the start): an outage must not spin a core. A connection lost after
 * answering is replaced at once.
 */
export const RECONNECT_DELAY_MS = 5;

/**
 * Closed model: `connections` loops, each with its own undici Client (one keep-alive connection,
 * pipelining 1) and exactly one request in flight, sending the next as soon as the previous one
 * has an outcome. Latency is from the actual send: the moment undici writes the request to its
 * socket (`onConnect`), or, for a request that never got a socket (refused), from its dispatch.
 *
 * Every outcome goes to the sink exactly once: a response, or a transport error when the
 * connection is refused, reset or closed with the request in flight, or when no complete answer
 * came within `timeoutMs` of the send. The timeout is our own timer per loop, not undici's
 * headers/body timeouts, which tick on a ~0.5 s coarse clock and would blur the timeout's latency.
 */
export function createClosedDriver(plan: ClosedPlan, clock: Clock): LoadDriver {
  return { start: (target, sink, signal) => new ClosedRun(plan, clock, target, sink, signal) };
}

class ClosedRun implements LoadRun {
  readonly done: Promise<LoadSummary>;
  readonly workload: Workload;
  private readonly loops: Loop[] = [];
  private sent = 0;
  private completed = 0;
  private idle = 0;
  private stopping = false;
  private onIdle: (() => void) | undefined;
  private readonly origin: string;
  private readonly connector: ReturnType<typeof guardedConnector>;

  constructor(
    readonly plan: ClosedPlan,
    readonly clock: Clock,
    target: LoadTarget,
    private readonly sink: ResponseSink,
    signal: AbortSignal,
  ) {
    this.origin = assertAllowedTarget(target.url, target).origin;
    this.connector = guardedConnector(target, plan.timeoutMs);
    this.workload = target.workload ?? new Workload(plan.workload, plan.seed, target.pools);
    if (target.onPoolEmpty) this.workload.onPoolEmpty(target.onPoolEmpty);
    for (let i = 0; i < plan.connections; i++) this.loops.push(new Loop(this));
    this.done = this.run(signal);
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const loop of this.loops) loop.stop();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  newClient(): Client {
    // The host policy again at every socket, with the target's TLS; the connect timeout is the client's.
    return new (undici().Client)(this.origin, { pipelining: 1, connect: this.connector });
  }

  countSent(): void {
    this.sent++;
  }

  report(request: Attempt, status: number, kind: TransportErrorKind | undefined): void {
    const endMs = this.clock.now();
    this.completed++;
    if (kind === undefined) this.sink.response(request.op, endMs, endMs - request.sentMs, status);
    else this.sink.transportError(request.op, endMs, endMs - request.sentMs, kind);
  }

  /** A loop sends nothing more: it stopped and its last request has its outcome. */
  loopIdle(): void {
    if (++this.idle === this.loops.length) this.onIdle?.();
  }

  private async run(signal: AbortSignal): Promise<LoadSummary> {
    const onAbort = (): void => this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    const runTimer = setTimeout(onAbort, MAX_RUN_MS);
    // Every request in flight ends within its timeout, so once stopped the loops go idle in bounded time.
    const allIdle = new Promise<void>((resolve) => (this.onIdle = resolve));
    try {
      if (signal.aborted) this.stop();
      for (const loop of this.loops) loop.next();
      await allIdle;
    } finally {
      clearTimeout(runTimer);
      signal.removeEventListener('abort', onAbort);
      await Promise.all(this.loops.map((loop) => loop.close()));
    }
    const { sent, completed } = this;
    return { sent, completed, dropped: 0, acknowledgedWrites: this.workload.writes, skipped: this.workload.emptied() };
  }
}

/** One connection of the closed model and its single request in flight. */
class Loop {
  private client: Client;
  /** Filled in place for every request: undici copies what it needs when the request is dispatched. */
  private readonly spec: HttpRequestSpec = { method: 'GET', path: '/', body: undefined, headers: {} };
  private current: Attempt | undefined;
  /** Re-armed with refresh() at every send: one timer per loop, not one per request. */
  private readonly timeout: NodeJS.Timeout;
  private pause: NodeJS.Timeout | undefined;
  private answeredSinceError = false;
  private idle = false;

  constructor(private readonly run: ClosedRun) {
    this.client = run.newClient();
    // Fires harmlessly when nothing is in flight.
    this.timeout = setTimeout(() => this.timedOut(), run.plan.timeoutMs);
  }

  now(): number {
    return this.run.clock.now();
  }

  /** Sends the next request, unless the run is stopping. */
  next(): void {
    if (this.run.isStopping) return this.goIdle();
    const { workload } = this.run;
    const op = workload.nextOp();
    const picked = workload.fill(this.spec, op);
    if (picked === SKIPPED) {
      // A pool the request needs is empty: nothing is sent; try again shortly (counted per pool).
      setTimeout(() => this.next(), SKIP_PAUSE_MS).unref();
      return;
    }
    const request = new Attempt(this, op, picked, this.now());
    this.current = request;
    this.timeout.refresh();
    this.run.countSent();
    this.client.dispatch(this.spec, request);
  }

  /** undici is writing `request` to a socket: the send, from which latency and the timeout count. */
  written(request: Attempt): void {
    if (this.current !== request) return;
    request.sentMs = this.now();
    this.timeout.refresh();
  }

  keepsBody(request: Attempt): boolean {
    return this.run.workload.keepsBody(request.op, request.status);
  }

  completed(request: Attempt): void {
    if (!this.settle(request)) return;
    if (this.keepsBody(request)) this.run.workload.acknowledge(request.op, request.picked, request.bodyText(), this.now());
    this.answeredSinceError = true;
    this.run.report(request, request.status, undefined);
    this.next();
  }

  failed(request: Attempt, err: Error): void {
    if (!this.settle(request)) return;
    this.run.report(request, 0, kindOfError(err));
    this.afterError();
  }

  stop(): void {
    if (this.pause === undefined) return; // in flight: goes idle when its outcome arrives
    clearTimeout(this.pause);
    this.pause = undefined;
    this.goIdle();
  }

  close(): Promise<void> {
    clearTimeout(this.timeout);
    clearTimeout(this.pause);
    return this.client.destroy();
  }

  /** True if `request` is the one in flight; it no longer is afterwards. */
  private settle(request: Attempt): boolean {
    if (this.current !== request) return false; // a late callback for a request already reported
    this.current = undefined;
    return true;
  }

  /**
   * No complete answer within the timeout of the send: reported now, and the client dropped with
   * its connection (connected or still connecting), so no second request queues behind this one.
   */
  private timedOut(): void {
    const request = this.current;
    if (!request || !this.settle(request)) return;
    this.run.report(request, 0, 'timeout');
    void this.client.destroy().catch(() => {});
    this.client = this.run.newClient();
    this.afterError();
  }

  private afterError(): void {
    const wait = !this.answeredSinceError;
    this.answeredSinceError = false;
    if (!wait || this.run.isStopping) return this.next();
    this.pause = setTimeout(() => {
      this.pause = undefined;
      this.next();
    }, RECONNECT_DELAY_MS);
  }

  private goIdle(): void {
    if (this.idle) return;
    this.idle = true;
    this.run.loopIdle();
  }
}

/**
 * One request and its undici dispatch handler (the classic onConnect/onHeaders/onData/onComplete/
 * onError interface, which undici calls without a wrapper, as in the open model).
 */
class Attempt {
  status = 0;
  private keepBody = false;
  private chunks: Buffer[] | undefined;

  constructor(
    private readonly loop: Loop,
    readonly op: number,
    readonly picked: string | null,
    /** Run-clock time of the send: the dispatch, then the write to the socket. */
    public sentMs: number,
  ) {}

  onConnect(): void {
    this.loop.written(this);
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    this.keepBody = this.loop.keepsBody(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.keepBody) (this.chunks ??= []).push(chunk);
    return true;
  }

  onComplete(): void {
    this.loop.completed(this);
  }

  onError(err: Error): void {
    this.loop.failed(this, err);
  }

  bodyText(): string {
    return this.chunks ? Buffer.concat(this.chunks).toString('utf8') : '';
  }
}
