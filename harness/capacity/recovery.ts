import type { Clock } from '../core/clock.js';
import type { Journal } from '../core/journal.js';
import { PodKill } from '../faults/pod-kill.js';
import type { FaultContext } from '../faults/types.js';
import type { ResponseSink } from '../load/index.js';
import type { Platform, Deployment } from '../platform/types.js';
import type { Plan } from '../scenario/plan.js';
import type { CapacityPlan } from './plan.js';
import { runStep, type StepTarget } from './step.js';

/** Seconds of the load around a mass termination, from the kill (second 0 starts at the kill). */
export interface RecoverySecond {
  second: number;
  arrivals: number;
  served: number;
  failures: number;
}

export interface MassTermination {
  mode: 'all' | 'fixed-percent';
  percent?: number;
  /** The load during it (req/s) and the knee it is a share of. */
  rate: number;
  kneeRate: number;
  replicasBefore: number;
  killed: number;
  /** The knee ÷ replicas: what one ready replica is assumed to add. */
  perReplicaRate: number;
  /** From the kill, ms: ready replicas (the readiness probe passing) over time, each change one point. */
  readyCurve: Array<{ atMs: number; ready: number; capacityRate: number }>;
  /** Kill → the first replacement ready (platform), and → the first request served again (clients). */
  firstReadyMs: number | null;
  firstServedMs: number | null;
  /** Kill → 50 %, 90 %, 100 % of the pre-fault capacity back (ready replicas), ms; null: not within the watch. */
  capacityBackMs: { p50: number | null; p90: number | null; p100: number | null };
  /** Replacements ready per second of the time to 100 %. */
  replicasPerSecond: number | null;
  /** Clients not served (5xx, transport errors, drops) among the requests meant to be sent from the kill on. */
  requestsLost: number;
  /** Of them, before 100 % of the capacity was back. */
  requestsLostBeforeFull: number;
  watchedMs: number;
  seconds: RecoverySecond[];
}

export interface MassTerminationContext {
  plan: Plan;
  cap: CapacityPlan;
  platform: Platform;
  deployment: Deployment;
  journal: Journal;
  clock: Clock;
  target: StepTarget;
  signal: AbortSignal;
  /** The measured knee with every replica (req/s). */
  kneeRate: number;
  random: () => number;
}

const POLL_MS = 50;
/** After full recovery the load runs on this long, so the curve shows the recovered service. */
const AFTER_MS = 500;

/**
 * Kills every replica (or a percentage) under load at a share of the knee, then watches until every
 * killed replica is replaced and ready again (or the watch ends), and measures recovery throughput.
 * Capacity over time is ready replicas × knee/replicas: the offered load is only a share of the knee,
 * so the clients' throughput cannot show the capacity above it (it is reported beside, per second).
 */
export async function massTermination(ctx: MassTerminationContext): Promise<MassTermination> {
  const m = ctx.cap.massTermination;
  if (!m) throw new Error('massTermination: no spec.capacity.massTermination');
  const replicas = ctx.plan.platform.kind === 'local' ? ctx.plan.platform.replicas : 1;
  const perReplicaRate = ctx.kneeRate / replicas;
  const rate = Math.max(1, Math.round(ctx.kneeRate * m.loadShare * 100) / 100);
  const injector = new PodKill({ kind: 'pod-kill', name: 'mass-termination', atMs: m.beforeMs, durationMs: m.observeMs, mode: m.mode, ...(m.percent !== undefined ? { value: m.percent } : {}) });
  const faultCtx: FaultContext = { platform: ctx.platform, deployment: ctx.deployment, journal: ctx.journal, clock: ctx.clock, random: ctx.random };
  let killAt = 0; // step clock
  let killAtSession = 0;
  let killed = new Set<string>();
  let before = 0;
  // Intended send times (step clock) of failures and of the first served request after the kill.
  const failedAt: number[] = [];
  let firstServed: number | null = null;
  const tap: ResponseSink = {
    response(_op, endMs, latencyMs, status) {
      const t = endMs - latencyMs;
      if (killAt === 0 || t < killAt) return;
      if (status >= 500) failedAt.push(t);
      else if (firstServed === null || endMs < firstServed) firstServed = endMs;
    },
    transportError(_op, endMs, latencyMs) {
      const t = endMs - latencyMs;
      if (killAt > 0 && t >= killAt) failedAt.push(t);
    },
    dropped(_op, atMs) {
      if (killAt > 0 && atMs >= killAt) failedAt.push(atMs);
    },
  };
  const readyNow = (): number => ctx.deployment.replicas().filter((r) => r.ready).length;
  const replacedReady = (): number =>
    ctx.journal.events().filter((e) => e.type === 'replica.ready' && e.atMs >= killAtSession && typeof e.detail?.['replaces'] === 'string' && killed.has(e.detail['replaces'] as string)).length;
  const durationMs = m.beforeMs + m.observeMs + AFTER_MS;
  const run = await runStep(ctx.target, rate, {
    plan: ctx.plan,
    ...(ctx.cap.maxInFlight !== undefined ? { maxInFlight: ctx.cap.maxInFlight } : {}),
    durationMs,
    settleMs: m.beforeMs,
    sloLatencyMs: ctx.cap.slo.latencyP95Ms,
    clock: ctx.clock,
    signal: ctx.signal,
    tap,
    phases: [
      { phase: 'baseline', startMs: 0, endMs: m.beforeMs },
      { phase: 'fault', startMs: m.beforeMs, endMs: durationMs, fault: 'mass-termination' },
    ],
    during: async (clock) => {
      await clock.sleep(m.beforeMs, ctx.signal);
      if (ctx.signal.aborted) return; // sleeps end early on an interrupt: nothing is killed then
      before = readyNow();
      killAtSession = ctx.clock.now();
      killAt = clock.now();
      const records = await injector.apply(faultCtx);
      killed = new Set(records.filter((r) => r.detail?.['killed'] === true).map((r) => r.target));
      const until = killAt + m.observeMs;
      while (clock.now() < until && !ctx.signal.aborted) {
        if (replacedReady() >= killed.size && readyNow() >= before) break;
        await clock.sleep(POLL_MS, ctx.signal);
      }
      await clock.sleep(Math.min(AFTER_MS, Math.max(0, until + AFTER_MS - clock.now())), ctx.signal);
    },
  });
  // The ready curve from the journal (session clock → ms after the kill).
  const readyEvents = ctx.journal
    .events()
    .filter((e) => e.type === 'replica.ready' && e.atMs >= killAtSession && typeof e.detail?.['replaces'] === 'string' && killed.has(e.detail['replaces'] as string))
    .map((e) => e.atMs - killAtSession)
    .sort((a, b) => a - b);
  let ready = before - killed.size;
  const readyCurve = [{ atMs: 0, ready, capacityRate: round(ready * perReplicaRate) }];
  for (const at of readyEvents) {
    ready++;
    readyCurve.push({ atMs: round(at), ready, capacityRate: round(ready * perReplicaRate) });
  }
  const backAt = (share: number): number | null => readyCurve.find((p) => p.ready >= Math.ceil(share * before - 1e-9))?.atMs ?? null;
  const p100 = backAt(1);
  const killSecond = Math.floor(killAt / 1000);
  const seconds: RecoverySecond[] = run.timeline.seconds.map((w) => ({
    second: w.index - killSecond,
    arrivals: w.arrivals,
    served: w.responses - w.status5xx,
    failures: w.failures,
  }));
  return {
    mode: m.mode,
    ...(m.percent !== undefined ? { percent: m.percent } : {}),
    rate,
    kneeRate: ctx.kneeRate,
    replicasBefore: before,
    killed: killed.size,
    perReplicaRate: round(perReplicaRate),
    readyCurve,
    firstReadyMs: readyEvents[0] !== undefined ? round(readyEvents[0]) : null,
    firstServedMs: firstServed !== null ? round(firstServed - killAt) : null,
    capacityBackMs: { p50: backAt(0.5), p90: backAt(0.9), p100 },
    replicasPerSecond: p100 !== null && p100 > 0 ? Math.round((killed.size * 1000 * 100) / p100) / 100 : null,
    requestsLost: failedAt.length,
    requestsLostBeforeFull: p100 !== null ? failedAt.filter((t) => t < killAt + p100).length : failedAt.length,
    watchedMs: round(m.observeMs),
    seconds,
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
