import { describe, expect, it } from 'vitest';
import { compareViews, type ClientFigures, type PhaseComparison, type ServerBlock } from '../../harness/observe/server-compare.js';
import { renderComparisonMarkdown } from '../../harness/report/compare-markdown.js';
import { compareResults } from '../../harness/report/gate/compare-results.js';
import { renderJunit } from '../../harness/report/junit.js';
import { renderMarkdown } from '../../harness/report/markdown.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { syntheticResult } from './fixture.js';

/** A window of the servers' view: `requests`, `fivexx` and the p95 bucket vary, the rest is plausible. */
function phase(name: string, requests: number, fivexx: number, p95: [number, number], fault?: string): PhaseComparison {
  const q = (b: [number, number]) => ({ lowerMs: b[0], upperMs: b[1], seedMs: (b[0] + b[1]) / 2, seedQuery: 'histogram_quantile(0.95, sum(rate(task_api_request_duration_seconds_bucket{route!~"/health|/metrics"}[10s])) by (le))*1000' });
  return {
    phase: name,
    ...(fault ? { fault } : {}),
    startMs: 2000,
    endMs: 12_000,
    server: {
      windowS: 10,
      arithmetic: `${name}: 12.0 s − 2.0 s = 10.0 s → [10s] in place of the seed's [5m]`,
      requests,
      status5xx: fivexx,
      rate5xxPerS: fivexx / 10,
      seed5xx: { query: 'sum(increase(task_api_requests_total{status=~"5.."}[10s]))', value: fivexx },
      seedRate5xx: { query: 'sum(rate(task_api_requests_total{status=~"5.."}[10s]))', value: fivexx / 10 },
      p95: q(p95),
      p99: q([50, 100]),
    },
    client: { arrivals: requests + 2, responses: requests - 1, status5xx: fivexx, transportErrors: 3, transportErrorKinds: { reset: 3 }, dropped: 0, p95Ms: 31, p99Ms: 70 },
    explained: ['3 transport error(s) (3 reset) were seen only by clients: no server answered them, so no server counted them'],
  };
}

function withServer(server: ServerBlock | undefined): ResultDocument {
  const r = syntheticResult();
  return { ...r, ...(server ? { server } : {}) };
}

const block = (requests: number, fivexx: number, p95: [number, number]): ServerBlock => ({
  source: 'prometheus',
  url: 'http://127.0.0.1:9090',
  scrapeIntervalS: 1,
  existing: true,
  selector: '{namespace="staging"}',
  phases: [phase('fault', 40, fivexx, p95, 'kill'), phase('run', requests, fivexx, p95)],
  scrapeGaps: [{ replica: 'task-api-a', lastScrapeMs: 19_400, goneByMs: 20_000 }],
  p95Series: { query: 'q', points: [] },
});

describe("the servers' figures in summary.md, junit.xml and gameday compare", () => {
  it('summary.md: both views per window, the scrape gap, and (folded) the window arithmetic, the seed queries and the reasons', () => {
    const md = renderMarkdown(withServer(block(120, 4, [25, 50])));
    expect(md).toContain('#### Server side (the existing Prometheus at http://127.0.0.1:9090, series {namespace="staging"}, 1 s scrapes) beside the clients');
    expect(md).toContain('| the run after warm-up (2.00s–12.00s, [10s]) | 120 / 119 | 4 / 4 | 0.4 | 3 | between 25ms and 50ms / 31ms | between 50ms and 100ms / 70ms |');
    expect(md).toContain('Scrape gaps (counters lost with the process): task-api-a last scraped at 19.40s, gone at 20.00s.');
    expect(md).toContain("- **fault of kill (2.00s–12.00s, [10s])**: fault: 12.0 s − 2.0 s = 10.0 s → [10s] in place of the seed's [5m]");
    expect(md).toContain('  - `sum(rate(task_api_requests_total{status=~"5.."}[10s]))` = 0.4');
    expect(md).toContain('  - 3 transport error(s) (3 reset) were seen only by clients');
    // Without a server block (or a skipped one, which is a note among the caveats) there is no section.
    expect(renderMarkdown(withServer(undefined))).not.toContain('Server side');
    expect(renderMarkdown(withServer({ skipped: 'no prometheus binary on PATH' }))).not.toContain('#### Server side');
  });

  it('junit.xml: the run window as suite properties, or why the cross-check was skipped', () => {
    const xml = renderJunit(withServer(block(120, 4, [25, 50])));
    expect(xml).toContain('<property name="server.requests" value="120"/>');
    expect(xml).toContain('<property name="server.status5xx" value="4"/>');
    expect(xml).toContain('<property name="server.p95" value="between 25ms and 50ms"/>');
    const skipped = renderJunit(withServer({ skipped: 'Prometheus at http://127.0.0.1:9 answered 401 Unauthorized: the bearer token from $T was refused' }));
    expect(skipped).toContain('<property name="server.skipped" value="Prometheus at http://127.0.0.1:9 answered 401 Unauthorized: the bearer token from $T was refused"/>');
    expect(renderJunit(withServer(undefined))).not.toContain('server.');
  });

  it('gameday compare: server rows per window beside the gate, informational (a higher server bucket regresses nothing)', () => {
    const base = [{ file: 'b.json', doc: withServer(block(120, 4, [25, 50])) }];
    const cur = [{ file: 'c.json', doc: withServer(block(100, 9, [50, 100])) }];
    const c = compareResults(base, cur, { resamples: 100 });
    expect(c.regressed).toBe(false);
    const row = (window: string, figure: string) => c.server?.rows.find((r) => r.window === window && r.figure === figure);
    expect(row('run', 'requests')).toEqual({ window: 'run', figure: 'requests', baseline: '120', current: '100', change: '-20 (-16.7%)' });
    expect(row('fault of kill', '5xx')).toMatchObject({ baseline: '4', current: '9', change: '+5 (+125.0%)' });
    expect(row('run', 'p95')).toEqual({ window: 'run', figure: 'p95', baseline: 'between 25ms and 50ms', current: 'between 50ms and 100ms', change: 'higher bucket' });
    expect(row('run', 'p99')?.change).toBe('same bucket');
    const md = renderComparisonMarkdown(c);
    expect(md).toContain("#### Server side (Prometheus): informational, not gated");
    expect(md).toContain('| run | p95 | between 25ms and 50ms | between 50ms and 100ms | higher bucket |');
    // One side without the servers' view: said, no rows.
    const skipped = compareResults(base, [{ file: 'c.json', doc: withServer({ skipped: 'no prometheus binary on PATH' }) }], { resamples: 100 });
    expect(skipped.server).toMatchObject({ rows: [], unavailable: 'current: cross-check skipped: no prometheus binary on PATH' });
    expect(renderComparisonMarkdown(skipped)).toContain('No server rows: current: cross-check skipped: no prometheus binary on PATH.');
    // Neither side has one: no section at all.
    expect(compareResults([{ file: 'b.json', doc: withServer(undefined) }], [{ file: 'c.json', doc: withServer(undefined) }], { resamples: 100 }).server).toBeUndefined();
  });
});

describe('why the views differ, per window', () => {
  const client = (status5xx: number, p95Ms: number, transportErrors = 0): ClientFigures => ({ arrivals: 60, responses: 60, status5xx, transportErrors, transportErrorKinds: transportErrors ? { reset: transportErrors } : {}, dropped: 0, p95Ms, p99Ms: p95Ms });
  const view = (status5xx: number, seedMs: number) => {
    const p = phase('recovery', 60, status5xx, [500, 1000], 'lock');
    const { server } = p;
    return {
      source: 'prometheus' as const,
      url: 'http://127.0.0.1:9090',
      scrapeIntervalS: 1,
      phases: [{ ...server, phase: 'recovery', fault: 'lock', startMs: 6000, endMs: 9000, startWallMs: 0, endWallMs: 3000, p95: { ...server.p95, seedMs } }],
      scrapeGaps: [],
      p95Series: { query: 'q', points: [] },
    };
  };
  const explained = (b: ServerBlock): string[] => ('phases' in b ? b.phases[0]!.explained : []);

  it('5xx moved across a window edge, and a seed quantile outside the bucket, are explained', () => {
    const e = explained(compareViews(view(3, 9), () => client(0, 26)));
    expect(e).toContain('5xx differ: servers counted 3, clients saw 0 (a server counts a 5xx when it answers, a client places it at its send time: a slow 5xx sent before a window edge and answered after it lands on either side)');
    expect(e.find((l) => l.startsWith("the seed's histogram_quantile (9ms) lies outside that bucket: it reads only the scrapes inside [10s]"))).toBeDefined();
  });

  it('no edge sentence when transport errors explain the difference; no seed sentence when it falls in the bucket', () => {
    const e = explained(compareViews(view(3, 700), () => client(0, 700, 2)));
    expect(e).toContain('5xx differ: servers counted 3, clients saw 0');
    expect(e.some((l) => l.startsWith("the seed's histogram_quantile"))).toBe(false);
  });
});
