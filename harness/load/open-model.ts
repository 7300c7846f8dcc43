import type { Clock } from '../core/clock.js';
import type { LoadDriver, LoadObserver, LoadPlan, LoadRun, LoadSummary, LoadTarget, ResponseSink } from './types.js';
import { OpenRequest, type OpenRequestOwner } from './open-request.js';
import { runArrivals, runRampingArrivals } from './arrivals.js';
import { kindOfError } from './transport-errors.js';
import { SKIPPED, Workload } from './workload.js';
import { assertAllowedTarget } from './loopback.js';
import { DRAIN_MARGIN_MS } from './limits.js';
import { connectOptions, type WarmConnections } from './warm.js';
import { Http1Pool, leanConnector } from './http1.js';

/** Constant (open) or ramping rate: the same driver, only the arrival schedule differs. */
type OpenPlan = Extract<LoadPlan, { model: 'open' | 'ramping' }>;

/**
 * How often outstanding requests are checked against their deadline once the schedule has ended
 * (while it runs, at each of its wake-ups: at most BATCH_MS apart).
 */
export const DEADLINE_SWEEP_MS = 5;

/**
 * Open model: a constant arrival rate over the lean HTTP/1.1 client (http1.ts: `connections`
 * keep-alive sockets, one request on the wire each, a FIFO for the rest), latency measured from
 * each arrival's intended send time (coordinated omission corrected). An arrival that finds
 * `maxInFlight` requests outstanding is not sent: it is reported through `sink.dropped` and counted.
 * The timeout is the client's own deadline, `timeoutMs` after the intended send time, wherever
 * the request waits (in the FIFO for a connection, or on one), enforced to within one wake-up of
 * the schedule (BATCH_MS; DEADLINE_SWEEP_MS while draining): a timed-out request is reported at
 * its deadline and aborted (on a connection, that connection is closed and a fresh one opened).
 * There are no retries.
 */
export function createOpenDriver(plan: OpenPlan, clock: Clock, observer?: LoadObserver): LoadDriver {
  return { start: (target, sink, signal) => new OpenRun(plan, clock, target, sink, signal, observer) };
}

class OpenRun implements LoadRun, OpenRequestOwner {
  readonly done: Promise<LoadSummary>;
  private readonly workload: Workload;
  private readonly pool: Http1Pool;
  private readonly stopper = new AbortController();
  private readonly all: OpenRequest[] = [];
  private readonly free: OpenRequest[] = [];
  /** Outstanding requests in send order (so in deadline order), from `head` on. */
  private readonly outstanding: OpenRequest[] = [];
  private head = 0;
  private inFlight = 0;
  private sent = 0;
  private completedCount = 0;
  private dropped = 0;
  private onDrained: (() => void) | undefined;
  private readonly warm: WarmConnections | undefined;

  constructor(
    private readonly plan: OpenPlan,
    private readonly clock: Clock,
    target: LoadTarget,
    private readonly sink: ResponseSink,
    signal: AbortSignal,
    private readonly observer?: LoadObserver,
  ) {
    const url = assertAllowedTarget(target.url, target);
    this.workload = target.workload ?? new Workload(plan.workload, plan.seed, target.pools);
    if (target.onPoolEmpty) this.workload.onPoolEmpty(target.onPoolEmpty);
    this.warm = target.warm;
    // The host policy again at every socket, with the target's TLS; the connect timeout is the client's.
    // Connections opened before the run's zero (same connector) are used first.
    this.pool = new Http1Pool({ connections: plan.connections, host: url.host, connect: leanConnector(target, plan.timeoutMs), connectOptions: connectOptions(url), warm: target.warm });
    this.done = this.run(signal);
  }

  stop(): void {
    this.stopper.abort();
  }

  private async run(signal: AbortSignal): Promise<LoadSummary> {
    const onAbort = (): void => this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) this.stop();
    const sweeping = new AbortController();
    let sweeper: Promise<void> | undefined;
    try {
      const plan = this.plan;
      // While the schedule runs, its wake-ups sweep (no timer of its own: every wake-up costs CPU); then a loop does.
      const options = { onWake: this.sweep };
      await (plan.model === 'ramping'
        ? runRampingArrivals(this.clock, { startPerSec: plan.startRatePerSec, stages: plan.stages }, this.arrive, this.stopper.signal, options)
        : runArrivals(this.clock, plan.ratePerSec, this.arrive, this.stopper.signal, options));
      sweeper = this.sweepLoop(sweeping.signal);
      await this.drain();
    } finally {
      sweeping.abort();
      await sweeper;
      signal.removeEventListener('abort', onAbort);
      this.warm?.close();
      this.pool.destroy();
    }
    const { sent, completedCount: completed, dropped } = this;
    return { sent, completed, dropped, acknowledgedWrites: this.workload.writes, skipped: this.workload.emptied() };
  }

  /** Called by the scheduler for every arrival, in order, with its intended send time. */
  private readonly arrive = (_k: number, intendedMs: number, nowMs: number): void => {
    this.observer?.sendLag(intendedMs, nowMs);
    const op = this.workload.nextOp();
    if (this.inFlight >= this.plan.maxInFlight) {
      this.dropped++;
      this.sink.dropped?.(op, intendedMs);
      return;
    }
    const request = this.free.pop() ?? this.newRequest();
    const picked = this.workload.fill(request.spec, op);
    if (picked === SKIPPED) {
      // A pool the request needs is empty: not sent, counted per pool (LoadSummary.skipped).
      this.free.push(request);
      return;
    }
    request.arm(op, picked, intendedMs);
    this.inFlight++;
    this.sent++;
    this.outstanding.push(request);
    this.pool.dispatch(request);
  };

  /**
   * Reports and aborts every outstanding request whose deadline has passed; called at every wake-up
   * of the schedule (finding nothing to do is O(1)).
   */
  private readonly sweep = (): void => {
    const now = this.clock.now();
    const q = this.outstanding;
    while (this.head < q.length) {
      const r = q[this.head] as OpenRequest;
      if (!r.settled && r.intendedMs + this.plan.timeoutMs > now) break;
      this.head++;
      if (r.settled) continue;
      this.sink.transportError(r.op, now, now - r.intendedMs, 'timeout');
      this.settle(r);
      this.pool.abort(r);
    }
    // Compact now and then, so the queue does not grow with the run.
    if (this.head > 1024 && this.head * 2 > q.length) {
      q.splice(0, this.head);
      this.head = 0;
    }
  };

  private async sweepLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.sweep();
      await this.clock.sleep(DEADLINE_SWEEP_MS, signal).catch(() => undefined);
    }
  }

  keepsBody(request: OpenRequest): boolean {
    return this.workload.keepsBody(request.op, request.status);
  }

  completed(request: OpenRequest): void {
    if (this.released(request)) return;
    const endMs = this.clock.now();
    if (request.keepsBody) this.workload.acknowledge(request.op, request.picked, request.bodyText(), endMs);
    this.sink.response(request.op, endMs, endMs - request.intendedMs, request.status);
    this.settle(request);
  }

  failed(request: OpenRequest, err: Error): void {
    if (this.released(request)) return;
    const endMs = this.clock.now();
    this.sink.transportError(request.op, endMs, endMs - request.intendedMs, kindOfError(err));
    this.settle(request);
  }

  /**
   * The client is done with the request. When its outcome was already reported (it expired), it is
   * only now free for reuse, and true is returned: nothing more to report.
   */
  private released(request: OpenRequest): boolean {
    request.dispatched = false;
    if (!request.settled) return false;
    this.free.push(request);
    return true;
  }

  /** Its outcome is reported: it no longer counts as in flight (reused once the client lets go of it). */
  private settle(request: OpenRequest): void {
    request.settled = true;
    this.inFlight--;
    this.completedCount++;
    if (!request.dispatched) this.free.push(request);
    if (this.inFlight === 0) this.onDrained?.();
  }

  /** Lets outstanding requests finish; past the deadline they are reported as timeouts. */
  private async drain(): Promise<void> {
    if (this.inFlight === 0) return;
    const deadline = new AbortController();
    const drained = new Promise<void>((resolve) => (this.onDrained = resolve));
    await Promise.race([drained, this.clock.sleep(this.plan.timeoutMs + DRAIN_MARGIN_MS, deadline.signal)]);
    deadline.abort();
    this.onDrained = undefined;
    const endMs = this.clock.now();
    for (const request of this.all) {
      if (request.settled) continue;
      this.sink.transportError(request.op, endMs, endMs - request.intendedMs, 'timeout');
      this.settle(request);
      this.pool.abort(request);
    }
  }

  private newRequest(): OpenRequest {
    const request = new OpenRequest(this);
    this.all.push(request);
    return request;
  }
}
