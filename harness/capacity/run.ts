import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import { Journal } from '../core/journal.js';
import { seededRandom } from '../core/random.js';
import { createInjector } from '../faults/index.js';
import type { FaultContext } from '../faults/types.js';
import { fillPools } from '../load/index.js';
import type { TargetAccess } from '../load/loopback.js';
import { Workload } from '../load/workload.js';
import { createPlatform, type Deployment, type Platform } from '../platform/index.js';
import { HostLoadMeter } from '../run/host-load.js';
import type { FaultPlan, Plan, PlatformPlan } from '../scenario/plan.js';
import { CAPACITY_KIND, CAPACITY_SCHEMA_VERSION, type CapacityDocument, type CapacitySearch, type MachineInfo } from './document.js';
import { forecast } from './forecast.js';
import { judgeStep, type JudgedStep } from './judge.js';
import type { CapacityPlan } from './plan.js';
import { massTermination, type MassTermination } from './recovery.js';
import { searchKnee } from './search.js';
import { runStep, type StepTarget } from './step.js';

export interface CapacityOptions {
  outDir: string;
  signal: AbortSignal;
  file?: string;
  /** Told each step as it is judged, and each phase as it starts. */
  onStep?: (search: string, step: JudgedStep) => void;
  onPhase?: (text: string) => void;
}

/** Quiet time between steps: the service's queues drain before the next rate. */
const PAUSE_MS = 250;
/** The unjudged warm-up before each search. */
const WARMUP_MS = 1_000;
/** Room for a deploy and teardown in the time budget. */
const DEPLOY_ROOM_MS = 5_000;

/**
 * gameday capacity: the knee with every replica (and under each named fault, on the same
 * deployment), then mass termination on it, then the knee with one replica fewer on a fresh
 * deployment; headroom for the peak and the forecast from them. Bounded by spec.capacity.maxDuration.
 * Every platform is torn down, and every fault recovered, whatever ends the command.
 */
export async function runCapacity(plan: Plan, cap: CapacityPlan, opts: CapacityOptions): Promise<CapacityDocument> {
  const clock = new SystemClock();
  const startedAt = new Date();
  const host = new HostLoadMeter();
  host.sample(clock.now());
  const deadline = clock.now() + cap.maxDurationMs;
  const local = plan.platform.kind === 'local' ? plan.platform : undefined;
  const replicas = local?.replicas ?? null;
  const searches: CapacitySearch[] = [];
  let mass: MassTermination | undefined;
  let status: CapacityDocument['status'] = 'completed';
  let error: string | undefined;
  const planned = 1 + cap.variants.faults.length + (cap.variants.nMinusOne ? 1 : 0);
  const massRoom = cap.massTermination ? cap.massTermination.beforeMs + cap.massTermination.observeMs + 2_000 : 0;
  /** The time one search may take: an equal share of what is left, after the mass termination's room. */
  const budget = (searchesLeft: number): number => Math.max(0, (deadline - clock.now() - massRoom - DEPLOY_ROOM_MS * searchesLeft) / searchesLeft);
  await mkdir(join(opts.outDir, 'logs'), { recursive: true });
  try {
    await withDeployment(plan, plan.platform, clock, opts, async (session) => {
      opts.onPhase?.(`knee with ${replicas ?? 'the'} replicas`);
      searches.push(await search(session, 'N', replicas, undefined, budget(planned)));
      for (const [i, fault] of cap.variants.faults.entries()) {
        opts.onPhase?.(`knee under fault ${fault.name}`);
        searches.push(await search(session, `fault:${fault.name}`, replicas, fault, budget(planned - 1 - i)));
      }
      const knee = searches[0]?.knee.rate;
      if (cap.massTermination && knee && !opts.signal.aborted) {
        opts.onPhase?.(`mass termination at ${Math.round(cap.massTermination.loadShare * 100)} % of ${knee}/s`);
        const measured = await massTermination({ plan, cap, platform: session.platform, deployment: session.deployment, journal: session.journal, clock, target: session.target, signal: opts.signal, kneeRate: knee, random: seededRandom(plan.load.seed ^ 0x5bd1e995) });
        if (!opts.signal.aborted) mass = measured; // cut short, its figures would mislead
      }
    });
    if (cap.variants.nMinusOne && local && !opts.signal.aborted) {
      const fewer: PlatformPlan = { ...local, replicas: local.replicas - 1 };
      await withDeployment(plan, fewer, clock, opts, async (session) => {
        opts.onPhase?.(`knee with ${fewer.replicas} replicas (N-1)`);
        // The grid scaled by (N−1)/N: the search takes as many steps, its uncertainty in proportion.
        const scale = fewer.replicas / local.replicas;
        searches.push(await search(session, 'N-1', fewer.replicas, undefined, budget(1), scale));
      });
    }
  } catch (err) {
    if (opts.signal.aborted) status = 'interrupted';
    else {
      status = 'error';
      error = (err as Error).message;
    }
  }
  if (opts.signal.aborted) status = 'interrupted';
  host.sample(clock.now());

  async function search(session: Session, name: string, n: number | null, fault: FaultPlan | undefined, budgetMs: number, scale = 1): Promise<CapacitySearch> {
    let reference: number | undefined;
    const measure = async (rate: number): Promise<JudgedStep> => {
      const { measure: m } = await runStep(session.target, rate, {
        plan,
        ...(cap.maxInFlight !== undefined ? { maxInFlight: cap.maxInFlight } : {}),
        durationMs: cap.stepMs,
        settleMs: cap.settleMs,
        sloLatencyMs: cap.slo.latencyP95Ms,
        clock,
        signal: opts.signal,
      });
      const judged = judgeStep(m, cap.slo, reference);
      // The lowest rate that met the SLO: the service's unqueued answer time.
      if (reference === undefined && judged.verdict === 'ok' && m.meanMs !== null) reference = m.meanMs;
      if (!opts.signal.aborted) opts.onStep?.(name, judged);
      await clock.sleep(PAUSE_MS, opts.signal);
      return judged;
    };
    // The same injector recovers what it injected (an exec fault's recover runs on its own instance only).
    const injector = fault ? createInjector(fault) : undefined;
    const records = injector ? await injector.apply(faultContext(session, opts.outDir)) : undefined;
    try {
      // Warm-up at half the start rate, not judged: connections open and code warm before the first
      // step, and its mean latency is the service's unqueued answer time (the generator's reference).
      const warm = await runStep(session.target, Math.max(1, grid((cap.startRate * scale) / 2)), { plan, ...(cap.maxInFlight !== undefined ? { maxInFlight: cap.maxInFlight } : {}), durationMs: WARMUP_MS, settleMs: WARMUP_MS / 2, sloLatencyMs: cap.slo.latencyP95Ms, clock, signal: opts.signal });
      const w = judgeStep(warm.measure, cap.slo);
      if (w.verdict === 'ok' && warm.measure.meanMs !== null) reference = warm.measure.meanMs;
      await clock.sleep(PAUSE_MS, opts.signal);
      const stepCostMs = cap.stepMs + PAUSE_MS + 500;
      const { knee, steps } = await searchKnee(measure, { startRate: grid(cap.startRate * scale), stepRate: grid(cap.stepRate * scale), maxRate: grid(cap.maxRate * scale), refine: cap.refine, budgetMs, stepCostMs }, () => clock.now(), opts.signal);
      const headroom = cap.peak !== undefined && knee.rate !== null ? { peak: cap.peak, rate: Math.round((knee.rate - cap.peak) * 100) / 100, ratio: Math.round((knee.rate / cap.peak) * 1000) / 1000 } : undefined;
      return { name, replicas: n, ...(fault ? { fault: fault.name } : {}), knee, ...(headroom ? { headroom } : {}), steps };
    } finally {
      if (injector && records) await injector.recover(records, faultContext(session, opts.outDir));
    }
  }

  const hostLoad = host.result();
  const machine: MachineInfo = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    ...(hostLoad ? { foreignCores: Math.round(hostLoad.foreignCores * 100) / 100, ownCores: Math.round(hostLoad.ownCores * 100) / 100 } : {}),
    node: process.version,
    note: `measured on this ${cpus().length}-core machine, load generator and service sharing it${hostLoad ? `, ${hostLoad.foreignCores.toFixed(2)} cores busy with other work on average` : ''}: a capacity of this machine, not of production hardware`,
  };
  const n = searches.find((s) => s.name === 'N');
  const n1 = searches.find((s) => s.name === 'N-1');
  // A knee that is only a lower bound (generator, maxRate, time) would understate a replica: the forecast uses found knees.
  const found = (s: CapacitySearch | undefined): s is CapacitySearch & { replicas: number; knee: { rate: number } } => s?.knee.status === 'found' && s.knee.rate !== null && s.replicas !== null && s.replicas > 0;
  const fc = cap.peak !== undefined && found(n)
    ? forecast({ peak: cap.peak, knee: { replicas: n.replicas, rate: n.knee.rate }, ...(found(n1) ? { kneeMinusOne: { replicas: n1.replicas, rate: n1.knee.rate } } : {}), loss: cap.forecastLoss, ...(mass ? { recovery: mass } : {}) })
    : undefined;
  if (fc && n1 && !found(n1)) fc.arithmetic.splice(1, 0, `the N-1 knee is not used: ${n1.knee.text}`);
  return {
    kind: CAPACITY_KIND,
    schemaVersion: CAPACITY_SCHEMA_VERSION,
    scenario: { name: plan.name, ...(opts.file ? { file: opts.file } : {}) },
    status,
    ...(error ? { error } : {}),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(clock.now()),
    machine,
    slo: cap.slo,
    ...(cap.peak !== undefined ? { peak: cap.peak } : {}),
    tolerance: cap.tolerance,
    load: { connections: plan.load.connections, maxInFlight: cap.maxInFlight ?? 'per step', timeoutMs: plan.load.timeoutMs, stepMs: cap.stepMs, settleMs: cap.settleMs },
    searches,
    ...(mass ? { massTermination: mass } : {}),
    ...(fc ? { forecast: fc } : {}),
  };
}

/** Rates to 0.01/s. */
const grid = (rate: number): number => Math.round(rate * 100) / 100;

interface Session {
  platform: Platform;
  deployment: Deployment;
  journal: Journal;
  clock: SystemClock;
  target: StepTarget;
}

function faultContext(s: Session, outDir: string): FaultContext {
  return { platform: s.platform, deployment: s.deployment, journal: s.journal, clock: s.clock, random: seededRandom(7), logDir: join(outDir, 'logs') };
}

/** Deploys `platformPlan`, fills the workload's pools, runs `body`, and always tears down. */
async function withDeployment(plan: Plan, platformPlan: PlatformPlan, clock: SystemClock, opts: CapacityOptions, body: (s: Session) => Promise<void>): Promise<void> {
  const journal = new Journal(clock);
  const platform = await createPlatform(platformPlan, { journal, logDir: join(opts.outDir, 'logs') }, clock);
  try {
    const deployment = await platform.deploy(opts.signal);
    const access: TargetAccess = { allowHosts: plan.allowHosts ?? [], ...(platformPlan.kind === 'external' && platformPlan.tls ? { tls: platformPlan.tls } : {}) };
    const seeded = deployment.seededIds;
    const seededValues = seeded && seeded.max >= seeded.min ? Array.from({ length: Math.min(seeded.max - seeded.min + 1, 100_000) }, (_, i) => String(seeded.min + i)) : undefined;
    const pools = await fillPools(plan.load.workload.pools, deployment.serviceUrl, seededValues ? { seeded: seededValues } : {}, opts.signal, access);
    const workload = new Workload(plan.load.workload, plan.load.seed, pools);
    await body({ platform, deployment, journal, clock, target: { url: deployment.serviceUrl, access, pools, workload } });
  } catch (err) {
    if (opts.signal.aborted) throw err;
    throw err instanceof HarnessError ? err : new HarnessError((err as Error).message, { cause: err });
  } finally {
    await platform.teardown();
  }
}
