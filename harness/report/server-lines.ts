import { formatMsOrNa } from './format.js';
import { bucketText, type PhaseComparison, type ServerBlock } from '../observe/server-compare.js';

/** "fault of kill (5.0 s – 10.0 s, [5s])": a server window as the reports name it. */
export function windowName(p: Pick<PhaseComparison, 'phase' | 'fault' | 'startMs' | 'endMs' | 'server'>): string {
  const what = p.phase === 'run' ? 'the run after warm-up' : `${p.phase}${p.fault ? ` of ${p.fault}` : ''}`;
  return `${what} (${formatMsOrNa(p.startMs)}–${formatMsOrNa(p.endMs)}, [${p.server.windowS}s])`;
}

/** The servers' figures beside the clients' for one window, in one line. */
export function comparisonLine(p: PhaseComparison): string {
  const s = p.server;
  const c = p.client;
  return (
    `servers ${s.requests} requests, ${s.status5xx} 5xx, p95 ${bucketText(s.p95)}, p99 ${bucketText(s.p99)}` +
    ` | clients ${c.responses} responses, ${c.status5xx} 5xx, ${c.transportErrors} transport errors, p95 ${formatMsOrNa(c.p95Ms)}, p99 ${formatMsOrNa(c.p99Ms)}`
  );
}

/** The console's server-side section: every window's two views, and why they differ for fault, recovery and the run. */
export function serverLines(block: ServerBlock | undefined): string[] {
  if (!block || 'skipped' in block) return [];
  const lines = [`server side (Prometheus${block.existing ? ` at ${block.url}${block.selector ? ` ${block.selector}` : ''}` : ''}, ${block.scrapeIntervalS} s scrapes) next to the clients:`];
  for (const p of block.phases) {
    lines.push(`  ${windowName(p)}: ${comparisonLine(p)}`);
    if (p.phase === 'fault' || p.phase === 'recovery' || p.phase === 'run') for (const e of p.explained) lines.push(`    - ${e}`);
  }
  return lines;
}

/** The HTML report's server-side section: one row per window, both views, and the reasons they differ. */
export function serverSection(block: ServerBlock | undefined): object | null {
  if (!block) return null;
  if ('skipped' in block) return { skipped: block.skipped };
  return {
    source: block.existing
      ? `the existing Prometheus at ${block.url}${block.selector ? `, series ${block.selector}` : ''}, ${block.scrapeIntervalS} s scrapes (read from its samples)`
      : `Prometheus at ${block.scrapeIntervalS} s scrapes of every replica`,
    rows: block.phases.map((p) => ({
      window: windowName(p),
      arithmetic: p.server.arithmetic,
      serverRequests: p.server.requests,
      clientResponses: p.client.responses,
      server5xx: p.server.status5xx,
      client5xx: p.client.status5xx,
      clientTransport: p.client.transportErrors,
      serverP95: bucketText(p.server.p95),
      clientP95: formatMsOrNa(p.client.p95Ms),
      serverP99: bucketText(p.server.p99),
      clientP99: formatMsOrNa(p.client.p99Ms),
      seed: `${p.server.seed5xx.query} = ${p.server.seed5xx.value ?? 'no data'}` + (p.server.seedRate5xx ? `; ${p.server.seedRate5xx.query} = ${p.server.seedRate5xx.value ?? 'no data'}/s` : ''),
      explained: p.explained,
    })),
  };
}
