import type { SystemClock } from '../core/clock.js';
import type { Journal } from '../core/journal.js';
import { PrometheusQuery, readServerView, type PhaseWindow, type ServerView } from '../observe/prometheus-query.js';
import { clientFigures, compareViews, type ServerBlock } from '../observe/server-compare.js';
import { SCRAPE_INTERVAL_S } from '../platform/local/prometheus.js';
import type { Deployment } from '../platform/types.js';
import type { PhaseName, Plan } from '../scenario/plan.js';
import { selectPhases } from '../timeline/merge.js';
import type { TimelineData } from '../timeline/types.js';

const MEASURED = ['baseline', 'fault', 'recovery', 'after'] as const;

/** Does the run want a Prometheus? Any local Task API run (its metrics are known). */
export function wantsPrometheus(plan: Plan): boolean {
  return plan.platform.kind === 'local' && plan.platform.app === undefined;
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

/**
 * After the load: waits for the replicas' last scrape, then reads the servers' figures for each
 * window. A failure of Prometheus itself is reported as the reason, never fails the run.
 */
export async function readServerSide(deployment: Deployment, plan: Plan, clock: SystemClock, journal: Journal, endedAtMs: number, signal: AbortSignal): Promise<ServerView | undefined> {
  const p = deployment.prometheus;
  if (!p) return undefined;
  if ('skipped' in p) return p;
  // Counters of requests that completed at the end are in the scrape after it.
  await clock.sleep(SCRAPE_INTERVAL_S * 1500 + 300, signal);
  if (signal.aborted) return undefined;
  try {
    const exits = new Map(journal.events().filter((e) => e.type === 'replica.exited' && e.target).map((e) => [e.target as string, e.atMs]));
    const view = await readServerView(new PrometheusQuery(p.url), serverWindows(plan, clock, endedAtMs), clock.wallMs(0), SCRAPE_INTERVAL_S, exits);
    journal.record({ source: 'harness', type: 'prometheus.read', detail: { windows: 'phases' in view ? view.phases.length : 0 } });
    return view;
  } catch (err) {
    const reason = `querying Prometheus at ${p.url} failed: ${(err as Error).message}`;
    journal.record({ source: 'harness', type: 'prometheus.skipped', detail: { reason } });
    return { skipped: reason };
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
