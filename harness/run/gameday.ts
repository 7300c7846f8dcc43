import { mkdir } from 'node:fs/promises';
import { conformanceFacts } from '../conformance/run.js';
import { join } from 'node:path';
import { SystemClock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import { Journal, type JournalEvent } from '../core/journal.js';
import { seededRandom } from '../core/random.js';
import { createInjector } from '../faults/index.js';
import { createLoadDriver, fillPools, type LoadRun } from '../load/index.js';
import { poolsPickedBy, Workload } from '../load/workload.js';
import { openConnections } from '../load/warm.js';
import type { TargetAccess } from '../load/loopback.js';
import type { LoadSummary } from '../load/types.js';
import { createPlatform, type Deployment, type Platform } from '../platform/index.js';
import type { Plan } from '../scenario/plan.js';
import { TimelineRecorder } from '../timeline/recorder.js';
import type { TimelineData } from '../timeline/types.js';
import { workloadRequests } from '../scenario/request-names.js';
import type { RunAnalysis } from '../report/result.js';
import { analyse } from './analyse.js';
import { AbortGuard } from './abort-guard.js';
import { idleSeconds, plansArrivalBetween } from '../load/arrivals.js';
import { FaultSchedule } from './fault-schedule.js';
import { forensicSnapshot, readBackDurability, startSampler, verifyDurability, type Sampler } from './observers.js';
import type { DurabilityReport } from '../observe/durability.js';
import { LiveStats, type LiveSecond } from './live-stats.js';
import { DRAIN_MARGIN_MS } from '../load/limits.js';
import { LagMonitor } from './lag-monitor.js';
import { evaluatePromql, prometheusAccess, readServerSide, serverBlock, skippedNote, wantsPrometheus, type PromqlValues } from './server-side.js';
import { k6JournalDetail } from '../k6/report-text.js';
import type { ServerView } from '../observe/prometheus-query.js';
import type { K6FeedFactory, K6OperatorDriver } from '../load/k6-operator-driver.js';

export type RunStatus = 'completed' | 'aborted' | 'interrupted' | 'error';

export interface RunOptions {
  outDir: string;
  /** Aborting it stops the run: load stops, faults recover, the platform is torn down. */
  signal: AbortSignal;
  /** Called about once a second with the latest outcome counts, for live progress. */
  onTick?: (tick: ProgressTick) => void;
  /** The run clock; injectable so tests can relate their own events to the run's timeline. */
  clock?: SystemClock;
  /** Each journal event as it is recorded (the CLI prints the cluster context before anything is applied). */
  onEvent?: (event: JournalEvent) => void;
  /** k6 operator runs: the feed of the runners' outcomes from Prometheus (default K6PrometheusFeed; tests pass their own). */
  k6Feed?: K6FeedFactory;
}

export interface ProgressTick {
  elapsedMs: number;
  totalMs: number;
  phase: string;
  fault?: string;
  /** The last complete second: req/s, p95, failures (absent before the first second). */
  last?: LiveSecond;
  /** Outcomes and failures since the run's zero. */
  totals?: { outcomes: number; failures: number };
}

export interface RunOutcome {
  /** Did the harness do its job? (Separate from whether the system held: see analysis.verdict.) */
  status: RunStatus;
  error?: Error;
  analysis?: RunAnalysis;
  load?: LoadSummary;
}

const MAX_IDS = 100_000;

/**
 * One Game Day: deploy, load, inject faults on schedule, stop, recover, tear down, analyse.
 * Teardown and fault recovery always run, whatever ends the run.
 */
export async function runGameDay(plan: Plan, opts: RunOptions): Promise<RunOutcome> {
  const clock = opts.clock ?? new SystemClock();
  const journal = new Journal(clock);
  if (opts.onEvent) journal.subscribe(opts.onEvent);
  await mkdir(join(opts.outDir, 'logs'), { recursive: true });
  const platform = await createPlatform(plan.platform, { journal, logDir: join(opts.outDir, 'logs'), prometheus: wantsPrometheus(plan) }, clock);
  let schedule: FaultSchedule | undefined;
  let recorder: TimelineRecorder | undefined;
  let load: LoadSummary | undefined;
  /** A k6 run, awaited on every path (Ctrl-C too) so that k6 is gone and its exit journaled. */
  let k6Run: LoadRun | undefined;
  let sampler: Sampler | undefined;
  let durability: DurabilityReport | undefined;
  let lag: LagMonitor | undefined;
  let server: ServerView | undefined;
  let promql: PromqlValues | undefined;
  let conformance: Awaited<ReturnType<typeof conformanceFacts>>;
  let status: RunStatus = 'completed';
  let error: Error | undefined;
  let firstScrape: FirstScrape | undefined;
  /** spec.load.parallelism: k6 runners on the cluster (a k6 operator TestRun), released on every path. */
  let operator: K6OperatorDriver | undefined;
  /** When the load's schedule started, on the run clock. */
  let loadStartMs: number | undefined;
  try {
    journal.record({ source: 'harness', type: 'run.deploying', detail: { platform: plan.platform.kind } });
    const deployment = await platform.deploy(opts.signal);
    firstScrape = watchFirstScrape(deployment, journal, opts.signal);
    const deployedAt = performance.now();
    // k6 fills its own pools (the script, or the exported workload's setup()).
    const pools = plan.load.k6 ? new Map<string, string[]>() : await startingPools(plan, deployment, opts.signal);
    opts.signal.throwIfAborted();

    // Built (templates compiled, faker loaded) before the clock's zero, so the load starts on time.
    const workload = new Workload(plan.load.workload, plan.load.seed, pools);
    // The open model's connections are opened before the zero too, so its first arrivals leave on time.
    const warm = plan.load.model === 'closed' || plan.load.k6 ? undefined : await openConnections(deployment.serviceUrl, targetAccess(plan), plan.load.connections, plan.load.timeoutMs, opts.signal);
    // The servers' first judged window starts at the end of warm-up and needs each replica scraped
    // once before it. The first scrape comes at most FIRST_SCRAPE_WORST_MS after the replicas became
    // targets: only a warm-up shorter than that waits for it before the zero, and only for the difference.
    // With (almost) no warm-up it is waited for in full, as the first window starts at the zero.
    if (firstScrape && plan.warmupMs < FULL_WAIT_BELOW_MS) await firstScrape.done;
    else if (firstScrape) await firstScrape.within(FIRST_SCRAPE_WORST_MS - plan.warmupMs - (performance.now() - deployedAt));
    opts.signal.throwIfAborted();
    if (plan.load.k6?.operator) {
      // The runners are applied and followed until the TestRun is started: the run's zero is then.
      operator = await k6OperatorDriver(plan, platform.k6OperatorSite?.(), clock, journal, opts.k6Feed);
      await operator.prepare(opts.signal);
    }
    journal.shift(clock.restart());
    journal.record({ source: 'harness', type: 'run.started', detail: { durationMs: plan.durationMs } });
    recorder = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: plan.slo.latencyP95Ms, maxLatencyMs: plan.load.timeoutMs * 2, requests: workloadRequests(plan.load) });
    sampler = startSampler(deployment, clock, journal);
    const snapshotter = sampler;
    schedule = new FaultSchedule(
      plan.faults.map((f) => createInjector(f, platform)),
      { platform, deployment, journal, clock, random: seededRandom(plan.load.seed ^ 0x9e3779b9), logDir: join(opts.outDir, 'logs') },
      clock,
      journal,
      snapshotter ? (fault) => forensicSnapshot(snapshotter, fault.plan.name, journal) : undefined,
    );
    const live = new LiveStats(recorder);
    lag = new LagMonitor(clock);
    lag.start();
    const loadRun = (operator ?? createLoadDriver(plan.load, clock, lag)).start(
      { url: deployment.serviceUrl, ...targetAccess(plan), pools, workload, ...(warm ? { warm } : {}), onPoolEmpty: (pool) => journal.record({ source: 'load', type: 'pool.empty', detail: { pool } }) },
      recorder,
      opts.signal,
    );
    if (plan.load.k6) k6Run = loadRun;
    // The load's schedule starts as start() returns (its arrival times count from then).
    loadStartMs = clock.now();
    schedule.start();
    const ended = await waitForEnd(plan, clock, opts, live, journal, loadStartMs);
    if (ended === 'aborted') {
      status = 'aborted';
      // Stop hurting the service first: the load's drain may take up to its timeout.
      await schedule.recoverAll();
    }
    loadRun.stop();
    const summary = await loadRun.done;
    if (summary.k6 && !summary.k6.operator) journal.record({ source: 'load', type: 'k6.exited', detail: k6JournalDetail(summary.k6) });
    lag.stop();
    load = summary;
    const endedAtMs = clock.now();
    await schedule.recoverAll();
    const faultError = schedule.error();
    if (faultError) throw faultError;
    await sampler?.stop();
    // The database check knows the reference Task API's table: only its preset's writes are checked there.
    if (plan.load.workload.preset === 'task-api') durability = await verifyDurability(deployment, summary, journal);
    // Any other service: the writes whose requests say how to read them back (write.read), over HTTP.
    else durability = await readBackDurability(plan.load.workload, deployment.serviceUrl, targetAccess(plan), summary, journal, opts.signal);
    server = await readServerSide(deployment, plan, clock, journal, endedAtMs, opts.signal);
    promql = await evaluatePromql(plan, server, clock, endedAtMs);
    conformance = await conformanceFacts(plan, opts.signal);
    journal.record({ source: 'harness', type: 'run.finished', detail: { sent: summary.sent, completed: summary.completed } });
  } catch (err) {
    if (opts.signal.aborted) {
      status = 'interrupted';
    } else {
      status = 'error';
      error = err instanceof Error ? err : new Error(String(err));
      journal.record({ source: 'harness', type: 'run.error', detail: { error: error.message } });
    }
  } finally {
    if (k6Run && load === undefined) {
      k6Run.stop();
      const k6 = (await k6Run.done.catch(() => undefined))?.k6;
      if (k6 && !k6.operator) journal.record({ source: 'load', type: 'k6.exited', detail: k6JournalDetail(k6) });
    }
    await operator?.release();
    lag?.stop(); // idempotent: releases its timer and histogram on every path
    firstScrape?.stop();
    await schedule?.recoverAll().catch(() => undefined);
    await sampler?.stop().catch(() => undefined);
    await platform.teardown();
  }
  const analysis = recorder ? analyse(plan, withIdleSeconds(plan, recorder.snapshot(), loadStartMs), journal.events(), {
        aborted: status === 'aborted',
        ...(sampler ? { series: sampler.series() } : {}),
        ...(durability ? { durability } : {}),
        ...(lag ? { lag } : {}),
        ...(promql ? { promql } : {}),
        ...(conformance ? { conformance } : {}),
      }) : undefined;
  if (analysis && server) {
    analysis.server = serverBlock(server, analysis.timeline);
    const note = skippedNote(analysis.server) ?? (firstScrape && 'phases' in server ? lateScrapeNote(journal.events(), plan.warmupMs) : undefined);
    if (note) analysis.caveats = [...(analysis.caveats ?? []), note];
  }
  return { status, ...(error ? { error } : {}), ...(analysis ? { analysis } : {}), ...(load ? { load } : {}) };
}

/**
 * The timeline with the seconds in which gameday's own ramping load planned no arrival, placed on
 * the run clock as the arrivals are (from the load's start). k6 runs: not known, none marked.
 */
function withIdleSeconds(plan: Plan, timeline: TimelineData, loadStartMs: number | undefined): TimelineData {
  if (loadStartMs === undefined || plan.load.k6) return timeline;
  const idle = idleSeconds(plan.load, loadStartMs, timeline.seconds.length);
  return idle.length > 0 ? { ...timeline, idle } : timeline;
}

/** The k6 operator driver on the platform's cluster, judged from the scenario's Prometheus. */
async function k6OperatorDriver(plan: Plan, site: ReturnType<NonNullable<Platform['k6OperatorSite']>> | undefined, clock: SystemClock, journal: Journal, feed?: K6FeedFactory): Promise<K6OperatorDriver> {
  const k6 = plan.load.k6;
  if (!site || !k6 || !plan.prometheus) throw new HarnessError(`spec.load.parallelism: k6 operator runners need the kubernetes platform and spec.observe.prometheus (the ${plan.platform.kind} platform has no cluster)`);
  const p = plan.prometheus;
  const prometheus = prometheusAccess(p);
  // Loaded only by the runs that use it: it brings the Kubernetes client (~0.5 s of every local run's start).
  const { createK6OperatorDriver } = await import('../load/k6-operator-driver.js');
  return createK6OperatorDriver(plan.load, k6, clock, { site, prometheus, journal, ...(p.remoteWriteUrl ? { remoteWriteUrl: p.remoteWriteUrl } : {}), ...(feed ? { feed } : {}) });
}

/**
 * The longest from the platform's return to the first scrape of every replica: Prometheus applies
 * new targets on its 5 s discovery tick, then scrapes within its 1 s interval, and the replicas
 * became targets as they listened (before the platform's return).
 */
const FIRST_SCRAPE_WORST_MS = 5500;
const FULL_WAIT_BELOW_MS = 2000;
/** The longest the first scrape is waited for. */
const FIRST_SCRAPE_TIMEOUT_MS = 15_000;

interface FirstScrape {
  /** Settles when every replica has been scraped once (journal: prometheus.scraped) or not in time (prometheus.unscraped). */
  done: Promise<void>;
  /** Waits for `done`, at most `ms` (nothing when ≤ 0). */
  within(ms: number): Promise<void>;
  stop(): void;
}

/** Waits in the background for the platform's Prometheus to scrape every replica once, and journals when. */
function watchFirstScrape(deployment: Deployment, journal: Journal, signal: AbortSignal): FirstScrape | undefined {
  if (!deployment.waitScraped) return undefined;
  const ended = new AbortController();
  const both = AbortSignal.any([signal, ended.signal]);
  const done = deployment.waitScraped(FIRST_SCRAPE_TIMEOUT_MS, both).then(
    () => void journal.record({ source: 'platform', type: 'prometheus.scraped', detail: {} }),
    (err: Error) => void (both.aborted || journal.record({ source: 'platform', type: 'prometheus.unscraped', detail: { reason: err.message } })),
  );
  const within = async (ms: number): Promise<void> => {
    if (!(ms > 0)) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  };
  return { done, within, stop: () => ended.abort() };
}

/** The caveat when the replicas were first scraped after the warm-up (or never): the first window has no baseline. */
export function lateScrapeNote(events: readonly JournalEvent[], warmupMs: number): string | undefined {
  const scraped = events.find((e) => e.type === 'prometheus.scraped');
  if (scraped && scraped.atMs <= warmupMs) return undefined;
  const when = scraped ? `first scraped every replica at ${(scraped.atMs / 1000).toFixed(1)} s, after` : 'had not scraped every replica by the end of the run, nor by';
  return `server side: Prometheus ${when} the end of warm-up at ${(warmupMs / 1000).toFixed(1)} s, so the first window has no baseline sample (its increase() counts from the replicas' start)`;
}

/** Who may be reached and how: the allowed hosts, and spec.target's TLS (a local platform serves plain http on loopback). */
function targetAccess(plan: Plan): TargetAccess {
  return { allowHosts: plan.allowHosts ?? [], ...(plan.platform.kind === 'external' && plan.platform.tls ? { tls: plan.platform.tls } : {}) };
}

/** The workload's pools before the run: seeded rows the platform knows, data files, or discovered from the target. */
async function startingPools(plan: Plan, deployment: Deployment, signal: AbortSignal): Promise<Map<string, string[]>> {
  const seeded = deployment.seededIds;
  const seededValues = seeded && seeded.max >= seeded.min ? Array.from({ length: Math.min(seeded.max - seeded.min + 1, MAX_IDS) }, (_, i) => String(seeded.min + i)) : undefined;
  const pools = await fillPools(plan.load.workload.pools, deployment.serviceUrl, seededValues ? { seeded: seededValues } : {}, signal, targetAccess(plan));
  // A pool that requests pick from but that nothing filled and no request captures into: nothing could be sent.
  const captured = new Set(plan.load.workload.requests.flatMap((r) => Object.keys(r.capture)));
  const picked = poolsPickedBy(plan.load.workload.requests);
  for (const pool of plan.load.workload.pools) {
    if (picked.has(pool.name) && !captured.has(pool.name) && (pools.get(pool.name)?.length ?? 0) === 0) {
      throw new HarnessError(`pool ${pool.name} is empty after filling it from ${deployment.serviceUrl}${pool.discover ? pool.discover.path : ''}; seed the target first`);
    }
  }
  return pools;
}

/** Waits out the run, ticking progress; ends early when the abort guard trips. */
async function waitForEnd(plan: Plan, clock: SystemClock, opts: RunOptions, live: LiveStats, journal: Journal, loadStartMs: number): Promise<'completed' | 'aborted'> {
  const guard = plan.abort ? new AbortGuard(plan.abort) : undefined;
  while (!opts.signal.aborted) {
    const elapsed = clock.now();
    if (elapsed >= plan.durationMs) return 'completed';
    const span = plan.phases.find((p) => elapsed >= p.startMs && elapsed < p.endMs);
    const last = live.lastSecond(elapsed);
    // The guard judges a second only once every request sent in it has had time to time out.
    const settled = guard ? live.lastSecond(elapsed, plan.load.timeoutMs + DRAIN_MARGIN_MS) : undefined;
    // A second in which a ramping load plans no arrival (rate 0, or after its last stage) has no outcomes by design: not judged.
    const planned = settled && plansArrivalBetween(plan.load, settled.second * 1000 - loadStartMs + 20, (settled.second + 1) * 1000 - loadStartMs - 20);
    if (guard && settled && planned && settled.second * 1000 >= plan.warmupMs && guard.observe(settled.second, settled.requestsPerSec, settled.failures)) {
      journal.record({ source: 'harness', type: 'run.aborted', detail: { reason: guard.describe(), second: settled.second } });
      return 'aborted';
    }
    opts.onTick?.({ elapsedMs: elapsed, totalMs: plan.durationMs, phase: span?.phase ?? 'after', ...(span?.fault ? { fault: span.fault } : {}), ...(last ? { last } : {}), totals: live.totals() });
    await clock.sleep(Math.min(1000, plan.durationMs - elapsed), opts.signal);
  }
  opts.signal.throwIfAborted();
  return 'completed';
}
