import type { SystemClock } from '../core/clock.js';
import type { Journal } from '../core/journal.js';
import { PrometheusQuery, readServerView, selectMetric, selectorMatchers, withWindow, type PhaseWindow, type PrometheusAccess, type ServerView } from '../observe/prometheus-query.js';
import { clientFigures, compareViews, type ServerBlock } from '../observe/server-compare.js';
import { SCRAPE_INTERVAL_S } from '../platform/local/prometheus.js';
import type { Deployment } from '../platform/types.js';
import type { CheckPlan, PhaseName, Plan, PrometheusPlan } from '../scenario/plan.js';
import { withSelector } from '../scenario/promql.js';
import { selectPhases } from '../timeline/merge.js';
import type { TimelineData } from '../timeline/types.js';

const MEASURED = ['baseline', 'fault', 'recovery', 'after'] as const;

/** Longest scrape interval waited for after the load (an existing Prometheus's is read from its samples). */
const MAX_SCRAPE_INTERVAL_S = 60;

/**
 * Does the run want the platform to start a Prometheus? Any local Task API run (its metrics are
 * known), and any local run with a promql check; never when an existing one is named.
 */
export function wantsPrometheus(plan: Plan): boolean {
  return plan.prometheus === undefined && plan.platform.kind === 'local' && (plan.platform.app === undefined || plan.checks.some((c) => c.metric === 'promql'));
}

export type PromqlValues = Map<string, { actual: number | null; detail?: string }>;

/**
 * Each promql check evaluated over its phase window: the spans it names (narrowed to its fault),
 * contiguous ones taken as one window whose length replaces `$__window` (`$__selector`: the selector), evaluated at the window's
 * end. Several windows (several faults): the largest value. An empty result is no data, never a pass.
 */
export async function evaluatePromql(plan: Plan, view: ServerView | undefined, clock: SystemClock, endedAtMs: number): Promise<PromqlValues> {
  const values: PromqlValues = new Map();
  const checks = plan.checks.filter((c) => c.metric === 'promql' && c.query !== undefined);
  if (checks.length === 0) return values;
  if (!view || 'skipped' in view) {
    for (const c of checks) values.set(c.id, { actual: null, detail: `no data: ${view ? `server-side cross-check skipped: ${view.skipped}` : 'no Prometheus was queried'}` });
    return values;
  }
  const client = prometheusClient(plan, view.url);
  for (const c of checks) values.set(c.id, await evaluateOne(client, c, promqlWindows(plan, c, endedAtMs), clock, plan.prometheus?.selector));
  return values;
}

function promqlWindows(plan: Plan, c: CheckPlan, endedAtMs: number): Array<{ startMs: number; endMs: number }> {
  const spans = plan.phases
    .filter((p) => c.during.includes(p.phase) && (!c.fault || p.fault === c.fault))
    .map((p) => ({ startMs: p.startMs, endMs: Math.min(p.endMs, endedAtMs) }))
    .filter((p) => p.endMs > p.startMs);
  const windows: Array<{ startMs: number; endMs: number }> = [];
  for (const s of spans) {
    const last = windows[windows.length - 1];
    if (last && last.endMs === s.startMs) last.endMs = s.endMs;
    else windows.push({ ...s });
  }
  return windows;
}

async function evaluateOne(client: PrometheusQuery, c: CheckPlan, windows: Array<{ startMs: number; endMs: number }>, clock: SystemClock, selector: string | undefined): Promise<{ actual: number | null; detail?: string }> {
  if (windows.length === 0) return { actual: null, detail: `no data: the run has no ${c.during.join('+')} span` };
  const values: number[] = [];
  const notes: string[] = [];
  for (const w of windows) {
    const query = withSelector(withWindow(c.query as string, w), selector);
    const where = `${query} at ${(w.endMs / 1000).toFixed(1)} s`;
    let vector: number[];
    try {
      vector = await client.vector(query, clock.wallMs(w.endMs));
    } catch (err) {
      return { actual: null, detail: `no data: ${where} failed: ${(err as Error).message}` };
    }
    if (vector.length === 0) return { actual: null, detail: `no data: ${where} returned an empty result` };
    if (vector.length > 1) return { actual: null, detail: `${where} returned ${vector.length} series; aggregate it to one (sum, max…)` };
    values.push(Math.round((vector[0] as number) * 1e6) / 1e6);
    notes.push(`${where} = ${values[values.length - 1]}`);
  }
  return { actual: Math.max(...values), detail: notes.join('; ') };
}

/** The windows the server side is read over: each measured phase, and the whole run after warm-up. */
export function serverWindows(plan: Plan, clock: SystemClock, endedAtMs: number): PhaseWindow[] {
  const spans = [
    ...plan.phases.filter((p) => p.phase !== 'warmup').map((p) => ({ phase: p.phase as string, ...(p.fault ? { fault: p.fault } : {}), startMs: p.startMs, endMs: p.endMs })),
    { phase: 'run', startMs: plan.warmupMs, endMs: plan.durationMs },
  ];
  return spans
    .map((s) => ({ ...s, endMs: Math.min(s.endMs, endedAtMs) }))
    .filter((s) => s.endMs > s.startMs)
    .map((s) => ({ ...s, startWallMs: clock.wallMs(s.startMs), endWallMs: clock.wallMs(s.endMs) }));
}

/** A client of the run's Prometheus: the existing one's with its credentials, or the platform's. */
export function prometheusClient(plan: Plan, url: string): PrometheusQuery {
  const p = plan.prometheus;
  return new PrometheusQuery(p && p.url === url ? prometheusAccess(p) : url);
}

/** How the scenario's Prometheus is reached: its bearer token (read now, kept nowhere else) and TLS. */
export function prometheusAccess(p: PrometheusPlan): PrometheusAccess {
  const token = p.bearerTokenEnv ? process.env[p.bearerTokenEnv] : undefined;
  return { url: p.url, ...(token && p.bearerTokenEnv ? { bearerToken: token, tokenEnv: p.bearerTokenEnv } : {}), ...(p.tls ? { tls: p.tls } : {}) };
}

/**
 * Before the run: whether the named Prometheus answers a query with these credentials. Undefined
 * when it does (or none is named), else the precise reason; the run goes on either way.
 */
export async function prometheusPreflight(plan: Plan): Promise<string | undefined> {
  if (!plan.prometheus) return undefined;
  try {
    await prometheusClient(plan, plan.prometheus.url).check();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * After the load: waits for the replicas' last scrape, then reads the servers' figures for each
 * window. A failure of Prometheus itself (unreachable, credentials refused, no series for the
 * selector) is reported as the reason, never fails the run.
 */
export async function readServerSide(deployment: Deployment, plan: Plan, clock: SystemClock, journal: Journal, endedAtMs: number, signal: AbortSignal): Promise<ServerView | undefined> {
  const p = plan.prometheus ? { url: plan.prometheus.url } : deployment.prometheus;
  if (!p) return undefined;
  if ('skipped' in p) return p;
  const skip = (reason: string): ServerView => {
    journal.record({ source: 'harness', type: 'prometheus.skipped', detail: { reason } });
    return { skipped: reason };
  };
  const client = prometheusClient(plan, p.url);
  const matchers = selectorMatchers(plan.prometheus?.selector);
  try {
    let intervalS = SCRAPE_INTERVAL_S;
    if (plan.prometheus) {
      // An existing Prometheus: reachable with these credentials, scraping something the selector names, how often.
      await client.check();
      const seen = await client.scrapeIntervalS(matchers, Date.now());
      if (seen === undefined) return skip(`Prometheus at ${p.url} has no samples of ${selectMetric('up', [matchers])} in the last 2 minutes: does ${plan.prometheus.selector ? `the selector ${plan.prometheus.selector}` : 'it (no selector given)'} match the service's scrape targets?`);
      intervalS = Math.min(MAX_SCRAPE_INTERVAL_S, Math.max(0.1, seen));
    }
    // Counters of requests that completed at the end are in the scrape after it.
    await clock.sleep(Math.max(0, endedAtMs + intervalS * 1500 + 300 - clock.now()), signal);
    if (signal.aborted) return undefined;
    const exits = new Map(journal.events().filter((e) => e.type === 'replica.exited' && e.target).map((e) => [e.target as string, e.atMs]));
    const read = await readServerView(client, serverWindows(plan, clock, endedAtMs), clock.wallMs(0), intervalS, exits, matchers);
    const selector = plan.prometheus?.selector;
    const view: ServerView = plan.prometheus && 'phases' in read ? { ...read, existing: true, ...(selector ? { selector } : {}) } : read;
    journal.record({ source: 'harness', type: 'prometheus.read', detail: { windows: 'phases' in view ? view.phases.length : 0, scrapeIntervalS: intervalS } });
    return view;
  } catch (err) {
    return skip((err as Error).message);
  }
}

/** Both views side by side, per window. */
export function serverBlock(view: ServerView, timeline: TimelineData): ServerBlock {
  return compareViews(view, (w) => {
    if (w.phase === 'run') return clientFigures(selectPhases(timeline, MEASURED));
    const stats = timeline.phases.find((s) => s.span.startMs === w.startMs && s.span.phase === w.phase);
    return clientFigures(stats ?? selectPhases(timeline, [w.phase as PhaseName], w.fault));
  });
}

/** The one line a run without the server side says about it. */
export function skippedNote(block: ServerBlock | undefined): string | undefined {
  return block && 'skipped' in block ? `server-side cross-check skipped: ${block.skipped}` : undefined;
}
