import { formatMs } from '../core/duration.js';
import type { LatencySummary, OutcomeCounts } from '../timeline/types.js';
import type { ScrapeGap, ServerOrigin, ServerP95Series, ServerPhase, ServerView } from './prometheus-query.js';

/** What the clients saw in the same window (from the client timeline). */
export interface ClientFigures {
  arrivals: number;
  responses: number;
  status5xx: number;
  transportErrors: number;
  transportErrorKinds: Record<string, number>;
  dropped: number;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface PhaseComparison {
  phase: string;
  fault?: string;
  startMs: number;
  endMs: number;
  server: Omit<ServerPhase, 'phase' | 'fault' | 'startMs' | 'endMs' | 'startWallMs' | 'endWallMs'>;
  client: ClientFigures;
  /** Why the two views differ, each reason in a sentence. */
  explained: string[];
}

/** result.json's `server`: both views per phase, or why the server side was not read. */
export type ServerBlock =
  | ({ source: 'prometheus'; url: string; scrapeIntervalS: number; phases: PhaseComparison[]; scrapeGaps: ScrapeGap[]; p95Series: ServerP95Series } & ServerOrigin)
  | { skipped: string };

export function clientFigures(c: OutcomeCounts & LatencySummary): ClientFigures {
  return {
    arrivals: c.arrivals,
    responses: c.responses,
    status5xx: c.status5xx,
    transportErrors: c.transportErrors.total,
    transportErrorKinds: Object.fromEntries(Object.entries(c.transportErrors).filter(([k, v]) => k !== 'total' && v > 0)),
    dropped: c.dropped,
    p95Ms: c.p95Ms,
    p99Ms: c.p99Ms,
  };
}

/** "between 250 and 500 ms": what a bucketed histogram can say of a quantile. */
export function bucketText(q: { lowerMs: number | null; upperMs: number | null }): string {
  if (q.lowerMs === null && q.upperMs === null) return 'no data';
  if (q.upperMs === null) return `above ${formatMs(q.lowerMs ?? 0)} (the last finite bucket)`;
  return `between ${formatMs(q.lowerMs ?? 0)} and ${formatMs(q.upperMs)}`;
}

/** Pairs each server window with the clients' figures of the same window and explains the differences. */
export function compareViews(view: ServerView, clients: (phase: ServerPhase) => ClientFigures): ServerBlock {
  if ('skipped' in view) return view;
  const phases = view.phases.map((p): PhaseComparison => {
    const { phase, fault, startMs, endMs, startWallMs: _s, endWallMs: _e, ...server } = p;
    const client = clients(p);
    const gaps = view.scrapeGaps.filter((g) => (g.goneByMs ?? g.lastScrapeMs) >= startMs && g.lastScrapeMs <= endMs);
    return { phase, ...(fault ? { fault } : {}), startMs, endMs, server, client, explained: explain(server, client, gaps, view.scrapeIntervalS) };
  });
  const origin = { ...(view.existing ? { existing: true as const } : {}), ...(view.selector ? { selector: view.selector } : {}) };
  return { source: 'prometheus', url: view.url, scrapeIntervalS: view.scrapeIntervalS, ...origin, phases, scrapeGaps: view.scrapeGaps, p95Series: view.p95Series };
}

function explain(server: PhaseComparison['server'], client: ClientFigures, gaps: ScrapeGap[], intervalS: number): string[] {
  const out: string[] = [];
  if (client.transportErrors > 0) {
    const kinds = Object.entries(client.transportErrorKinds).map(([k, n]) => `${n} ${k}`).join(', ');
    out.push(`${client.transportErrors} transport error(s) (${kinds}) were seen only by clients: no server answered them, so no server counted them`);
  }
  if (client.dropped > 0) out.push(`${client.dropped} arrival(s) were dropped by the load generator (maxInFlight) and never sent`);
  if (server.status5xx === client.status5xx) out.push(`5xx agree: ${server.status5xx} on both sides`);
  else {
    out.push(
      `5xx differ: servers counted ${server.status5xx}, clients saw ${client.status5xx}` +
        (gaps.length > 0 || client.transportErrors > 0 ? '' : ' (a server counts a 5xx when it answers, a client places it at its send time: a slow 5xx sent before a window edge and answered after it lands on either side)'),
    );
  }
  const seed = server.seed5xx.value ?? 0;
  if (Math.abs(seed - server.status5xx) >= 0.5) {
    out.push(
      `the seed's increase() gives ${seed} where the counters rose by ${server.status5xx}: it extrapolates from the samples inside the window ` +
        'and cannot count a series\' first sample (a 5xx series appears with its first 5xx), so it can under- or over-state a short window',
    );
  }
  for (const g of gaps) {
    out.push(
      `scrape gap: ${g.replica} was last scraped at ${formatMs(g.lastScrapeMs)}${g.goneByMs === null ? '' : ` and was gone at ${formatMs(g.goneByMs)}`}; ` +
        'what it answered after its last scrape was lost with its counters',
    );
  }
  const diff = client.responses - server.requests;
  if (diff !== 0) {
    out.push(
      `clients got ${client.responses} response(s), servers counted ${server.requests} (${diff > 0 ? '+' : ''}${diff}): servers count a request when it completes and are read at each ${intervalS} s scrape, ` +
        'clients place it at its (intended) send time, so a window edge moves requests between neighbouring phases',
    );
  }
  if (server.p95.upperMs !== null || server.p95.lowerMs !== null) {
    const c = client.p95Ms;
    const inside = c !== null && (server.p95.lowerMs ?? 0) <= c && (server.p95.upperMs === null || c <= server.p95.upperMs);
    out.push(
      `server p95 is ${bucketText(server.p95)} (a bucketed histogram says no more; Prometheus interpolates ${server.p95.seedMs === null ? 'nothing' : formatMs(server.p95.seedMs)}); ` +
        `client p95 ${c === null ? 'n/a' : formatMs(c)} ${inside ? 'falls in that bucket' : 'falls outside it'}` +
        (inside ? '' : ': clients time the network hop, queueing before the server and transport errors, which the server never times'),
    );
    const seedMs = server.p95.seedMs;
    if (seedMs !== null && (seedMs < (server.p95.lowerMs ?? 0) - 0.5 || (server.p95.upperMs !== null && seedMs > server.p95.upperMs + 0.5))) {
      out.push(
        `the seed's histogram_quantile (${formatMs(seedMs)}) lies outside that bucket: it reads only the scrapes inside [${server.windowS}s], from the first one after the window's start, ` +
          'while the bucket counts from the start itself (interpolated), so a burst of slow requests at the edge is in one and not the other',
      );
    }
  }
  return out;
}
