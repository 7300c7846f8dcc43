import type { Clock } from '../core/clock.js';
import { createLoadDriver, type ResponseSink, type TransportErrorKind } from '../load/index.js';
import type { TargetAccess } from '../load/loopback.js';
import type { Workload } from '../load/workload.js';
import { HostLoadMeter, type HostLoad } from '../run/host-load.js';
import { LagMonitor } from '../run/lag-monitor.js';
import type { Plan, PhaseSpan } from '../scenario/plan.js';
import { workloadRequests } from '../scenario/request-names.js';
import { TimelineRecorder, type TimelineData } from '../timeline/index.js';

/** A clock whose zero is `originMs` of another: one load run's own time over a longer session. */
export class OffsetClock implements Clock {
  constructor(private readonly base: Clock, readonly originMs: number) {}
  now(): number {
    return this.base.now() - this.originMs;
  }
  wallMs(offsetMs: number): number {
    return this.base.wallMs(this.originMs + offsetMs);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.base.sleep(ms, signal);
  }
}

/** What the load generator itself did during a step's judged part. */
export interface GeneratorFigures {
  /** Worst per-second 99th percentile of send lag behind the schedule, ms (null: nothing sent). */
  sendLagP99Ms: number | null;
  loopDelayMaxMs: number;
  /** CPU of this process (the generator, one event loop) over the judged part, in cores. */
  cpuCores: number;
  maxInFlight: number;
  connections: number;
}

/** One open-model run at a fixed rate: the figures of its judged part [settle, end). */
export interface StepMeasure {
  rate: number;
  judgedMs: number;
  /** Arrivals meant to be sent in the judged part (outcomes + dropped). */
  arrivals: number;
  /** Served responses (status below 500) that completed within the judged part, per second. */
  achievedRate: number;
  failures: number;
  dropped: number;
  status5xx: number;
  transportErrors: number;
  failureRatio: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  generator: GeneratorFigures;
  /** Other work on the machine meanwhile (Linux). */
  host?: HostLoad;
}

export interface StepTarget {
  url: string;
  access: TargetAccess;
  pools: ReadonlyMap<string, readonly string[]>;
  workload: Workload;
}

export interface StepOptions {
  plan: Plan;
  /** Explicit maxInFlight; absent: the open model's default rule at this rate (rate × timeout, at least 4 × connections). */
  maxInFlight?: number;
  durationMs: number;
  settleMs: number;
  sloLatencyMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Extra sink, told every outcome as well (mass termination watches the clients' side). */
  tap?: ResponseSink;
  /** Runs while the load is on (the step's clock); when given, the step ends as it resolves (it must be bounded by durationMs). */
  during?: (clock: Clock) => Promise<void>;
  /** The recorder's phase spans; default: warm-up until settleMs, then baseline (the judged part). */
  phases?: PhaseSpan[];
}

export interface StepRun {
  measure: StepMeasure;
  timeline: TimelineData;
  /** The step's zero on the session clock. */
  originMs: number;
}

/** Drives the open model at `rate` for `durationMs`, recording every outcome into a per-second HDR timeline. */
export async function runStep(target: StepTarget, rate: number, opts: StepOptions): Promise<StepRun> {
  const { plan, durationMs, settleMs } = opts;
  const timeoutMs = plan.load.timeoutMs;
  const connections = plan.load.connections;
  const maxInFlight = opts.maxInFlight ?? Math.max(connections * 4, Math.ceil((rate * timeoutMs) / 1000));
  const clock = new OffsetClock(opts.clock, opts.clock.now());
  const phases: PhaseSpan[] = opts.phases ?? [
    { phase: 'warmup', startMs: 0, endMs: settleMs },
    { phase: 'baseline', startMs: settleMs, endMs: durationMs },
  ];
  const recorder = new TimelineRecorder({ phases, sloLatencyMs: opts.sloLatencyMs, maxLatencyMs: timeoutMs * 2, requests: workloadRequests(plan.load) });
  // Served completions inside the judged part: the achieved throughput (by completion, not by send time).
  let achieved = 0;
  const tap = opts.tap;
  const sink: ResponseSink = {
    response(op: number, endMs: number, latencyMs: number, status: number): void {
      if (status < 500 && endMs >= settleMs && endMs < durationMs) achieved++;
      recorder.response(op, endMs, latencyMs, status);
      tap?.response(op, endMs, latencyMs, status);
    },
    transportError(op: number, endMs: number, latencyMs: number, kind: TransportErrorKind): void {
      recorder.transportError(op, endMs, latencyMs, kind);
      tap?.transportError(op, endMs, latencyMs, kind);
    },
    dropped(op: number, atMs: number): void {
      recorder.dropped(op, atMs);
      tap?.dropped?.(op, atMs);
    },
  };
  const lag = new LagMonitor(clock);
  const host = new HostLoadMeter();
  lag.start();
  const run = createLoadDriver({ model: 'open', ratePerSec: rate, connections, maxInFlight, timeoutMs, workload: plan.load.workload, seed: plan.load.seed }, clock, lag).start(
    { url: target.url, ...target.access, pools: target.pools, workload: target.workload },
    sink,
    opts.signal,
  );
  let cpuAtSettle: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  try {
    const during = opts.during?.(clock);
    during?.catch(() => undefined); // awaited below; a rejection before then is not unhandled
    await clock.sleep(settleMs, opts.signal);
    cpuAtSettle = process.cpuUsage();
    host.sample(clock.now());
    if (during) await during;
    else await clock.sleep(Math.max(0, durationMs - clock.now()), opts.signal);
    cpuAtEnd = process.cpuUsage(cpuAtSettle);
    host.sample(clock.now());
  } finally {
    run.stop();
    await run.done;
    lag.stop();
  }
  const timeline = recorder.snapshot();
  const judged = timeline.phases[1];
  const judgedMs = durationMs - settleMs;
  const lagSeconds = lag.seconds().filter((s) => s.second * 1000 >= settleMs && s.second * 1000 < durationMs);
  const lagP99 = lagSeconds.map((s) => s.sendLagP99Ms).filter((v): v is number => v !== null);
  const hostLoad = host.result();
  const arrivals = judged?.arrivals ?? 0;
  const measure: StepMeasure = {
    rate,
    judgedMs,
    arrivals,
    achievedRate: round((achieved * 1000) / judgedMs),
    failures: judged?.failures ?? 0,
    dropped: judged?.dropped ?? 0,
    status5xx: judged?.status5xx ?? 0,
    transportErrors: judged?.transportErrors.total ?? 0,
    failureRatio: arrivals > 0 ? (judged?.failures ?? 0) / arrivals : 0,
    p50Ms: judged?.p50Ms ?? null,
    p95Ms: judged?.p95Ms ?? null,
    p99Ms: judged?.p99Ms ?? null,
    meanMs: judged?.meanMs ?? null,
    generator: {
      sendLagP99Ms: lagP99.length > 0 ? Math.max(...lagP99) : null,
      loopDelayMaxMs: Math.max(0, ...lagSeconds.map((s) => s.loopDelayMaxMs)),
      cpuCores: cpuAtEnd ? round((cpuAtEnd.user + cpuAtEnd.system) / 1000 / judgedMs) : 0,
      maxInFlight,
      connections,
    },
    ...(hostLoad ? { host: hostLoad } : {}),
  };
  return { measure, timeline, originMs: clock.originMs };
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
