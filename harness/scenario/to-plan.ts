import { formatDuration, parseDurationMs } from '../core/duration.js';
import { promqlSyntaxError, SELECTOR_VARIABLE, withSelector } from './promql.js';
import type { Problem } from '../core/errors.js';
import type { LoadPlan } from '../load/types.js';
import type { WorkloadPlan } from '../load/workload-plan.js';
import { workloadPlan } from './workload-plan.js';
import { canonicalHost, isHostAllowed, isLoopbackHost } from '../core/loopback.js';
import { readTargetTls } from './tls-files.js';
import { DEFAULT_RUN_LIMITS, DURATION_BOUNDS } from './limits.js';
import { layoutPhases } from './phases.js';
import type { AppPlan, CheckPlan, ExternalPlatformPlan, FaultPlan, LocalPlatformPlan, PhaseName, Plan, PlatformPlan, ProbePlan } from './plan.js';
import { faultPlan, platformNeeds } from './fault-plans.js';
import { faultKind } from '../faults/kinds/index.js';
import { isDrillMetric } from '../verdict/dr-metrics.js';
import { dirname, resolve } from 'node:path';
import { defaultLocalPlatform, type CheckDocument, type ScenarioDocument } from './schema.js';
import { METRIC_UNITS, parseTarget } from './target.js';
import { regressionPlan } from './regression.js';
import { workloadRequestNames } from './request-names.js';
import { RampCurve } from '../load/arrivals.js';
import { k6OperatorProblems, withK6 } from '../k6/plan.js';
import { prometheusPlan, type PrometheusOverride } from './prometheus-plan.js';
import { conformancePlan } from '../conformance/from-scenario.js';
import { kubernetesFaults, kubernetesFaultShape, kubernetesPlan, type KubernetesOverride } from '../kube/from-scenario.js';

export interface PlanContext {
  file?: string;
  /** Environment consulted for DATABASE_URL (passed in, never read here from process.env). */
  env: Readonly<Record<string, string | undefined>>;
  /** Non-loopback hosts allowed on the command line (--allow-host), besides spec.target.allowHosts. */
  allowHosts?: readonly string[];
  /** --prometheus / --prometheus-token-env, over spec.observe.prometheus. */
  prometheus?: PrometheusOverride;
  /** False for `gameday validate`: secrets named by environment variable need not be set. */
  secretsRequired?: boolean;
  /** --platform, --namespace, --context, --image and the cluster guardrails' opt-ins. */
  kubernetes?: KubernetesOverride;
  /** --parallelism: k6 operator runners (over spec.load.parallelism). */
  k6Parallelism?: number;
}

/** The seed's resilience criteria, used when a scenario lists no checks of its own. */
const DEFAULT_CHECKS: CheckDocument[] = [
  { id: 'SC-008', name: 'Pod kill recovery time', metric: 'rto.platform', target: '< 30s' },
  { id: 'SC-009', name: 'No 5xx during failure', metric: 'requests.status5xx', during: ['fault', 'recovery'], target: '== 0' },
  { id: 'SC-010', name: 'P95 latency during recovery', metric: 'latency.p95', during: ['fault', 'recovery'], target: '< 500ms' },
];

const ms = (text: string): number => parseDurationMs(text) as number;

/** Cross-field rules and normalisation: a valid document becomes a frozen Plan, or problems. */
export function toPlan(doc: ScenarioDocument, ctx: PlanContext): { plan: Plan } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const problem = (path: string, expected: string, found: string): void => {
    problems.push({ ...(ctx.file ? { file: ctx.file } : {}), path, expected, found });
  };
  const { spec } = doc;
  const durationMs = ms(spec.duration);
  const warmupMs = ms(spec.warmup);
  if (warmupMs >= durationMs) problem('spec.warmup', `shorter than spec.duration (${spec.duration})`, spec.warmup);
  checkRunLimits(doc, durationMs, problem);
  const recovery = { windowMs: ms(spec.recovery.window), sustainMs: ms(spec.recovery.sustain) };
  if (recovery.sustainMs > recovery.windowMs) {
    problem('spec.recovery.sustain', `at most spec.recovery.window (${spec.recovery.window}): recovery must be sustained within its window`, spec.recovery.sustain);
  }

  const allowHosts = allowedHosts(doc, ctx);
  const platformBase = kubernetesPlan(doc, ctx.kubernetes, allowHosts, problem) ?? platformPlan(doc, ctx, allowHosts, problem);
  const load = withK6(loadPlan(doc, ctx, problem), doc, ctx, problem);
  const faultWhere = { baseDir: ctx.file ? dirname(resolve(ctx.file)) : process.cwd(), allowHosts };
  const faults = spec.faults.map((f, i) => faultPlan(f, i, platformBase.kind === 'kubernetes' ? kubernetesFaultShape(platformBase) : platformBase, problem, faultWhere));
  const platform: PlatformPlan =
    platformBase.kind === 'local' ? { ...platformBase, ...platformNeeds(faults) } : platformBase.kind === 'kubernetes' ? kubernetesFaults(platformBase, faults, problem) : platformBase;
  checkFaultTiming(faults, warmupMs, durationMs, recovery, problem);
  const hasPodKill = faults.some((f) => faultKind(f).defaultRtoCheck === true);
  // Writes read back over HTTP (write.read) make durability.lostWrites measurable for any service.
  const readBack = load.workload.requests.some((r) => r.write?.read !== undefined);
  const prometheus = prometheusPlan(doc, ctx.prometheus, ctx.env, allowHosts, problem, ctx.secretsRequired ?? true, faultWhere.baseDir);
  k6OperatorProblems(load, platform.kind, prometheus?.url, ctx.k6Parallelism !== undefined, problem);
  const checks = (spec.checks ?? defaultChecks(hasPodKill)).map((c, i) => checkPlan(c, i, faults.length > 0, platform, problem, readBack, prometheus !== undefined, prometheus?.selector));
  checks.forEach((c, i) => {
    if (c.fault && !faults.some((f) => f.name === c.fault)) problem(`spec.checks[${i}].fault`, `the name of a fault (${faults.map((f) => f.name).join(', ') || 'none'})`, `"${c.fault}"`);
    const drills = faults.filter((f) => f.kind === 'disaster-recovery').map((f) => f.name);
    if (isDrillMetric(c.metric) && !(c.fault ? drills.includes(c.fault) : drills.length > 0)) {
      problem(`spec.checks[${i}].${c.fault ? 'fault' : 'metric'}`, `${c.metric} of a disaster-recovery fault (${drills.join(', ') || 'none in spec.faults'})`, c.fault ? `"${c.fault}"` : c.metric);
    }
  });
  const requestNames = workloadRequestNames(load);
  checks.forEach((c, i) => {
    if (c.request === undefined) return;
    if (!isRequestMetric(c.metric)) problem(`spec.checks[${i}].request`, 'a request only for requests.*, latency.* and throughput.rps metrics', `"${c.request}" with ${c.metric}`);
    else if (!requestNames.includes(c.request)) problem(`spec.checks[${i}].request`, `the name of a workload request (${requestNames.join(', ')})`, `"${c.request}"`);
  });
  if (platform.kind === 'local' && platform.app) checkAppNeeds(platform.app, faults, checks, problem, readBack);
  // The drill deletes the database: only one gameday started itself, never a server named by URL.
  if (platform.kind === 'local' && platform.database.kind === 'url') {
    faults.forEach((f, i) => f.kind === 'disaster-recovery' && problem(`spec.faults[${i}].kind`, 'a fault that leaves the database alone: a disaster-recovery drill deletes the database, and gameday never destroys a server named by URL (use database: embedded)', '"disaster-recovery"'));
  }
  const ids = new Set<string>();
  checks.forEach((c, i) => {
    if (ids.has(c.id)) problem(`spec.checks[${i}].id`, 'a check id used once', `"${c.id}" again`);
    ids.add(c.id);
  });
  const conformance = conformancePlan(doc, ctx.file, platform, checks, allowHosts, problem);
  if (problems.length > 0) return { problems };

  const plan: Plan = {
    name: doc.metadata.name,
    ...(doc.metadata.description ? { description: doc.metadata.description } : {}),
    ...(ctx.file ? { source: ctx.file } : {}),
    durationMs,
    warmupMs,
    platform,
    load,
    faults,
    slo: { latencyP95Ms: ms(spec.slo.latencyP95) },
    recovery,
    checks,
    ...(spec.abort ? { abort: { failureRatio: spec.abort.failureRatio, forMs: ms(spec.abort.for) } } : {}),
    resources: {
      ...(spec.resources?.tolerance ? { tolerance: spec.resources.tolerance } : {}),
      sustainMs: ms(spec.resources?.sustain ?? '3s'),
    },
    regression: regressionPlan(spec.regression),
    phases: layoutPhases(durationMs, warmupMs, faults, recovery.windowMs),
    ...(allowHosts.length > 0 ? { allowHosts } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(conformance ? { conformance } : {}),
  };
  return { plan: deepFreeze(plan) };
}

type Report = (path: string, expected: string, found: string) => void;

/** spec.target.allowHosts and --allow-host, canonical (as URL.hostname writes them), each once. */
function allowedHosts(doc: ScenarioDocument, ctx: PlanContext): string[] {
  const given = [...(doc.spec.target?.allowHosts ?? []), ...(ctx.allowHosts ?? [])];
  return [...new Set(given.map(canonicalHost).filter((h): h is string => h !== undefined))];
}

function platformPlan(doc: ScenarioDocument, ctx: PlanContext, allowHosts: readonly string[], problem: Report): ExternalPlatformPlan | Omit<LocalPlatformPlan, 'faultInjection' | 'databaseProxy'> {
  const { platform, target } = doc.spec;
  if (platform && target) problem('spec.target', 'either spec.platform or spec.target, not both', 'both');
  if (target) {
    const url = new URL(target.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problem('spec.target.url', 'an http:// or https:// URL', url.protocol);
    if (url.username || url.password) problem('spec.target.url', 'no credentials in the URL', 'user info');
    // Nothing is sent to a host nobody allowed: loopback, or listed in the scenario or on the command line.
    if (!isHostAllowed(url.hostname, allowHosts)) problem('spec.target.url', 'a loopback host, or a host listed in spec.target.allowHosts / --allow-host', url.hostname);
    if (target.tls && url.protocol !== 'https:') problem('spec.target.tls', 'tls only with an https:// spec.target.url', url.protocol);
    const tls = target.tls ? readTargetTls(target.tls, ctx.file ? dirname(resolve(ctx.file)) : process.cwd(), problem) : undefined;
    return { kind: 'external', url: target.url.replace(/\/+$/, ''), ...(allowHosts.length > 0 ? { allowHosts: [...allowHosts] } : {}), ...(tls ? { tls } : {}) };
  }
  const l = platform?.local ?? defaultLocalPlatform();
  const envUrl = ctx.env['DATABASE_URL'];
  const database = typeof l.database === 'object' ? { kind: 'url' as const, url: l.database.url } : envUrl ? { kind: 'url' as const, url: envUrl } : { kind: 'embedded' as const };
  if (database.kind === 'url') {
    const where = typeof l.database === 'object' ? 'spec.platform.local.database.url' : 'env DATABASE_URL';
    try {
      const u = new URL(database.url);
      if (!/^postgres(ql)?:$/.test(u.protocol)) problem(where, 'a postgres:// URL', u.protocol);
      else if (!isLoopbackHost(u.hostname)) problem(where, 'a loopback database host (127.0.0.0/8, ::1, localhost)', u.hostname);
    } catch {
      problem(where, 'a postgres:// URL', 'an unparsable string');
    }
  }
  const app = l.app ? appPlan(l.app, ctx, problem) : undefined;
  if (app && !app.database && typeof l.database === 'object') {
    problem('spec.platform.local.database', 'no database for an app with database: false (set spec.platform.local.app.database: true)', 'a url');
  }
  return {
    kind: 'local',
    replicas: l.replicas,
    ...(app ? { app } : {}),
    database,
    readinessProbe: probePlan(l.readinessProbe),
    ...(l.livenessProbe ? { livenessProbe: probePlan(l.livenessProbe) } : {}),
    pool: { size: l.pool.size, acquireTimeoutMs: ms(l.pool.acquireTimeout), statementTimeoutMs: ms(l.pool.statementTimeout) },
    seedRows: l.seedRows,
    terminationGracePeriodMs: ms(l.terminationGracePeriod),
  };
}

type ProbeDocument = ReturnType<typeof defaultLocalPlatform>['readinessProbe'];
type AppDocument = NonNullable<ReturnType<typeof defaultLocalPlatform>['app']>;

/** Variables the platform sets for each replica: the app may not set them itself. */
const PLATFORM_ENV = ['PORT', 'DATABASE_URL', 'REPLICA_NAME'];

/** spec.platform.local.app: its working directory resolved against the scenario file's directory. */
function appPlan(a: AppDocument, ctx: PlanContext, problem: Report): AppPlan {
  for (const key of Object.keys(a.env)) {
    if (PLATFORM_ENV.includes(key)) problem(`spec.platform.local.app.env.${key}`, `no ${PLATFORM_ENV.join(', ')}: the platform sets them for each replica`, key);
  }
  const baseDir = ctx.file ? dirname(resolve(ctx.file)) : process.cwd();
  return {
    name: a.name,
    command: a.command,
    env: a.env,
    workingDir: a.workingDir === undefined ? baseDir : resolve(baseDir, a.workingDir),
    readinessPath: a.readinessPath,
    database: a.database,
  };
}

/**
 * An app is not the Task API: faults and checks that rely on the Task API's endpoints or schema
 * are refused, and those that need the database only when the app has one.
 */
function checkAppNeeds(app: AppPlan, faults: readonly FaultPlan[], checks: readonly CheckPlan[], problem: Report, readBack: boolean): void {
  const noDb = 'spec.platform.local.app has database: false; set it to true';
  faults.forEach((f, i) => faultKind(f).checkApp?.(f, app, `spec.faults[${i}]`, problem));
  checks.forEach((c, i) => {
    if (c.metric === 'durability.lostWrites') {
      if (!readBack) problem(`spec.checks[${i}].metric`, 'durability.lostWrites with spec.platform.local.app only when a request reads its writes back (write.read)', c.metric);
    }
    else if (c.metric.startsWith('resources.') && !app.database) problem(`spec.checks[${i}].metric`, `${c.metric} only with a database (${noDb})`, c.metric);
  });
}

function probePlan(p: ProbeDocument): ProbePlan {
  return {
    initialDelayMs: ms(p.initialDelay),
    periodMs: ms(p.period),
    timeoutMs: ms(p.timeout),
    failureThreshold: p.failureThreshold,
    successThreshold: p.successThreshold,
  };
}

function loadPlan(doc: ScenarioDocument, ctx: PlanContext, problem: Report): LoadPlan {
  const l = doc.spec.load;
  const workload = workloadPlan(doc, ctx, problem);
  const timeoutMs = ms(l.timeout);
  if (l.model !== 'ramping') {
    if (l.startRate !== undefined) problem('spec.load.startRate', `no startRate for model "${l.model}" (use model: ramping)`, String(l.startRate));
    if (l.stages !== undefined) problem('spec.load.stages', `no stages for model "${l.model}" (use model: ramping)`, `${l.stages.length} stage(s)`);
  }
  if (l.model === 'closed') {
    if (l.rate !== undefined) problem('spec.load.rate', 'no rate for model "closed" (use model: open)', String(l.rate));
    if (l.maxInFlight !== undefined) problem('spec.load.maxInFlight', 'no maxInFlight for model "closed"', String(l.maxInFlight));
    return { model: 'closed', connections: l.connections, timeoutMs, workload, seed: l.seed };
  }
  if (l.model === 'ramping') return rampingPlan(doc, { connections: l.connections, timeoutMs, workload, seed: l.seed }, problem);
  if (l.rate === undefined) problem('spec.load.rate', 'an arrival rate per second for model "open"', 'nothing');
  const ratePerSec = l.rate ?? 1;
  const maxInFlight = l.maxInFlight ?? Math.max(l.connections * 4, Math.ceil((ratePerSec * timeoutMs) / 1000));
  return { model: 'open', ratePerSec, connections: l.connections, maxInFlight, timeoutMs, workload, seed: l.seed };
}

/**
 * k6's ramping-arrival-rate: the rate starts at `startRate` and moves linearly to each stage's
 * `to` over its `over`. As in k6 the arrivals end with the last stage, so the stages must fit in
 * spec.duration. maxInFlight defaults as the open model's, for the peak rate.
 */
function rampingPlan(doc: ScenarioDocument, common: { connections: number; timeoutMs: number; workload: WorkloadPlan; seed: number }, problem: Report): LoadPlan {
  const l = doc.spec.load;
  if (l.rate !== undefined) problem('spec.load.rate', 'no rate for model "ramping" (use startRate and stages)', String(l.rate));
  if (l.stages === undefined) problem('spec.load.stages', 'at least one stage { to: <rate>, over: <duration> } for model "ramping"', 'nothing');
  const startRatePerSec = l.startRate ?? 0;
  const stages = (l.stages ?? []).map((s) => ({ toPerSec: s.to, overMs: ms(s.over) }));
  const curve = new RampCurve(startRatePerSec, stages);
  const durationMs = ms(doc.spec.duration);
  if (curve.durationMs > durationMs) {
    problem('spec.load.stages', `stages lasting at most spec.duration (${doc.spec.duration}) in all: the load ends with the last stage`, `${formatDuration(curve.durationMs)} in all`);
  }
  if (l.stages !== undefined && curve.total < 1) {
    problem('spec.load.stages', 'stages that plan at least one arrival (a rate above 0 for long enough)', `${Number(curve.total.toPrecision(3))} expected arrivals`);
  }
  const maxInFlight = l.maxInFlight ?? Math.max(common.connections * 4, Math.ceil((curve.peakPerSec * common.timeoutMs) / 1000));
  return { model: 'ramping', startRatePerSec, stages, maxInFlight, ...common };
}

/** A run longer than an hour, or an arrival rate above 10 000/s, only with an explicit spec.limits. */
function checkRunLimits(doc: ScenarioDocument, durationMs: number, problem: Report): void {
  const { limits, load } = doc.spec;
  const hardMax = formatDuration(DURATION_BOUNDS.run.max);
  const maxDurationMs = limits?.duration === undefined ? DEFAULT_RUN_LIMITS.durationMs : ms(limits.duration);
  if (durationMs > maxDurationMs) {
    const expected = limits?.duration === undefined
      ? `at most ${formatDuration(DEFAULT_RUN_LIMITS.durationMs)} unless spec.limits.duration allows longer (up to ${hardMax})`
      : `at most spec.limits.duration (${limits.duration})`;
    problem('spec.duration', expected, doc.spec.duration);
  }
  const maxRate = limits?.rate ?? DEFAULT_RUN_LIMITS.ratePerSec;
  const rates: Array<[string, number | undefined]> = [
    ['spec.load.rate', load.rate],
    ['spec.load.startRate', load.startRate],
    ...(load.stages ?? []).map((s, i): [string, number] => [`spec.load.stages[${i}].to`, s.to]),
  ];
  for (const [path, rate] of rates) {
    if (rate === undefined || rate <= maxRate) continue;
    const expected = limits?.rate === undefined
      ? `at most ${DEFAULT_RUN_LIMITS.ratePerSec} arrivals/s unless spec.limits.rate allows more`
      : `at most spec.limits.rate (${limits.rate})`;
    problem(path, expected, String(rate));
  }
}

/**
 * Faults in order, inside the run, each followed by room to judge its recovery: clients must be
 * able to show a sustained recovery before the next fault starts, and the whole recovery window
 * must fit before the run ends (otherwise the client RTO of the last fault is cut short).
 */
function checkFaultTiming(faults: FaultPlan[], warmupMs: number, durationMs: number, recovery: { windowMs: number; sustainMs: number }, problem: Report): void {
  const names = new Set<string>();
  const d = formatDuration;
  faults.forEach((f, i) => {
    const path = `spec.faults[${i}]`;
    const endMs = f.atMs + f.durationMs;
    if (names.has(f.name)) problem(`${path}.name`, 'a fault name used once', `"${f.name}" again`);
    names.add(f.name);
    if (f.atMs < warmupMs) problem(`${path}.at`, `at or after the warm-up (${warmupMs}ms)`, `${f.atMs}ms`);
    if (endMs > durationMs) problem(`${path}.duration`, `to end by spec.duration (${durationMs}ms)`, `ends at ${endMs}ms`);
    else if (endMs + recovery.windowMs > durationMs) {
      problem(
        `${path}.duration`,
        `to end by ${d(durationMs - recovery.windowMs)}: spec.duration (${d(durationMs)}) minus spec.recovery.window (${d(recovery.windowMs)}), room to judge recovery`,
        `ends at ${d(endMs)}`,
      );
    }
    const prev = faults[i - 1];
    if (prev) {
      const prevEnd = prev.atMs + prev.durationMs;
      if (f.atMs < prevEnd) problem(`${path}.at`, `after the previous fault ends (${prevEnd}ms)`, `${f.atMs}ms`);
      else if (f.atMs < prevEnd + recovery.sustainMs) {
        problem(
          `${path}.at`,
          `at or after ${d(prevEnd + recovery.sustainMs)}: the previous fault's end (${d(prevEnd)}) plus spec.recovery.sustain (${d(recovery.sustainMs)}), room to see it recover`,
          d(f.atMs),
        );
      }
    }
  });
}

function defaultChecks(hasPodKill: boolean): CheckDocument[] {
  return hasPodKill ? DEFAULT_CHECKS : DEFAULT_CHECKS.filter((c) => c.metric !== 'rto.platform');
}

function checkPlan(c: CheckDocument, i: number, hasFaults: boolean, platform: PlatformPlan, problem: Report, readBack: boolean, hasPrometheus = false, selector?: string): CheckPlan {
  const path = `spec.checks[${i}]`;
  const unit = METRIC_UNITS[c.metric];
  const parsed = parseTarget(c.target, unit);
  if ('error' in parsed) problem(`${path}.target`, parsed.error, JSON.stringify(c.target));
  if (c.metric.startsWith('rto.') && !hasFaults) problem(`${path}.metric`, 'an RTO metric only in a scenario with faults', c.metric);
  if (c.metric === 'rto.platform' && platform.kind === 'external') {
    problem(`${path}.metric`, 'rto.platform only with a platform (spec.target has none; use rto.client)', c.metric);
  }
  if ((c.metric.startsWith('resources.') || (c.metric === 'durability.lostWrites' && !readBack)) && platform.kind === 'external') {
    const or = c.metric === 'durability.lostWrites' ? ', or with a request that reads its writes back (write.read)' : '';
    problem(`${path}.metric`, `${c.metric} only with a platform that owns the database (spec.target has none)${or}`, c.metric);
  }
  if (c.metric === 'resources.recoveryTime' && !hasFaults) problem(`${path}.metric`, 'resources.recoveryTime only in a scenario with faults', c.metric);
  if (c.resource && !c.metric.startsWith('resources.')) problem(`${path}.resource`, 'a resource only for resources.* metrics', c.resource);
  checkPromql(c, path, platform, problem, hasPrometheus, selector);
  const during = (c.during ?? (hasFaults ? ['fault', 'recovery'] : ['baseline'])) as PhaseName[];
  return {
    ...(c.query !== undefined ? { query: c.query } : {}),
    ...(c.resource ? { resource: c.resource } : {}),
    ...(c.fault ? { fault: c.fault } : {}),
    ...(c.request ? { request: c.request } : {}),
    id: c.id,
    name: c.name,
    metric: c.metric,
    during,
    comparator: 'error' in parsed ? '<' : parsed.comparator,
    threshold: 'error' in parsed ? 0 : parsed.threshold,
    targetText: c.target,
  };
}

/** A promql check names a query that parses, on a platform that runs Prometheus (or with spec.observe.prometheus); no other check names one. */
function checkPromql(c: CheckDocument, path: string, platform: PlatformPlan, problem: Report, hasPrometheus: boolean, selector: string | undefined): void {
  if (c.metric !== 'promql') {
    if (c.query !== undefined) problem(`${path}.query`, 'a query only with metric: promql', `a query with ${c.metric}`);
    return;
  }
  if (c.query === undefined) return problem(`${path}.query`, 'a PromQL expression (metric: promql)', 'nothing');
  // Parsed as it will be evaluated: with $__selector replaced (positions are then the replaced text's).
  const replaced = c.query.includes(SELECTOR_VARIABLE);
  const error = promqlSyntaxError(withSelector(c.query, selector));
  const as = !replaced ? '' : selector ? ` of the query with $__selector replaced by ${selector.trim()}` : ' of the query with $__selector removed (no spec.observe.prometheus.selector)';
  if (error) problem(`${path}.query`, 'a PromQL expression', `a syntax error at line ${error.line}, column ${error.column}${as}, near ${error.near}`);
  if (platform.kind !== 'local' && !hasPrometheus) {
    problem(`${path}.metric`, 'promql only on the local platform (it runs the Prometheus the query is evaluated on) or with spec.observe.prometheus / --prometheus', 'spec.target');
  }
}

/** Metrics computed from the outcomes of requests, which a check may narrow to one request. */
function isRequestMetric(metric: CheckPlan['metric']): boolean {
  return metric.startsWith('requests.') || metric.startsWith('latency.') || metric === 'throughput.rps';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
