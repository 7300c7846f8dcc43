import { bucketText, type PhaseComparison } from '../../observe/server-compare.js';
import type { ResultDocument } from '../result.js';
import { medianOf } from './points.js';
import type { ServerComparison, ServerFigureRow } from './types.js';

/**
 * Why the servers' figures are shown beside the gate but never gate: their counts depend on the
 * Prometheus's scrape interval and lose what a killed replica answered after its last scrape, and
 * a bucketed quantile moves only by whole buckets (a relative tolerance means nothing on it). The
 * clients' figures, compared with bootstrap intervals, are the gate; these explain a change.
 */
export const SERVER_ROWS_NOTE =
  "informational, not gated: server counts depend on the scrape interval and lose what a killed replica answered after its last scrape, and a bucketed p95/p99 moves only by whole buckets; the gate judges the clients' figures";

type Phases = PhaseComparison[];

/** Each run's windows by a key that pairs them across runs: phase, fault, and which occurrence. */
function windows(doc: ResultDocument): Map<string, PhaseComparison> | string {
  const s = doc.server;
  if (!s) return 'no servers\' view';
  if ('skipped' in s) return `cross-check skipped: ${s.skipped}`;
  const seen = new Map<string, number>();
  const out = new Map<string, PhaseComparison>();
  for (const p of s.phases as Phases) {
    const base = `${p.phase}${p.fault ? ` of ${p.fault}` : ''}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.set(n === 1 ? base : `${base} #${n}`, p);
  }
  return out;
}

/** The lower median of the runs' quantiles (it stays a bucket of the histogram), as its bucket text and upper bound. */
function bucketOf(ps: PhaseComparison[], q: 'p95' | 'p99'): { text: string; upper: number | null; lower: number | null } {
  const sorted = ps.map((p) => p.server[q]).sort((a, b) => (a.upperMs ?? Infinity) - (b.upperMs ?? Infinity));
  const mid = sorted[Math.floor((sorted.length - 1) / 2)];
  return mid ? { text: bucketText(mid), upper: mid.upperMs, lower: mid.lowerMs } : { text: 'no data', upper: null, lower: null };
}

function countChange(b: number | null | undefined, c: number | null | undefined): string {
  if (b == null || c == null) return 'n/a';
  const d = Math.round((c - b) * 1000) / 1000;
  const pct = b === 0 ? '' : ` (${d >= 0 ? '+' : ''}${((d / b) * 100).toFixed(1)}%)`;
  return `${d >= 0 ? '+' : ''}${d}${pct}`;
}

/** The servers' figures of every window both sides have, medians over repetitions; undefined when neither side has any. */
export function compareServerSide(baseline: readonly ResultDocument[], current: readonly ResultDocument[]): ServerComparison | undefined {
  const [bw, cw] = [baseline.map(windows), current.map(windows)];
  const missing = (side: string, ws: Array<Map<string, PhaseComparison> | string>): string | undefined => {
    const reason = ws.find((w): w is string => typeof w === 'string');
    return reason === undefined ? undefined : `${side}: ${reason}`;
  };
  const why = [missing('baseline', bw), missing('current', cw)].filter((w): w is string => w !== undefined);
  if (why.length === 2 && [...bw, ...cw].every((w) => w === "no servers' view")) return undefined;
  if (why.length > 0) return { note: SERVER_ROWS_NOTE, rows: [], unavailable: why.join('; ') };
  const bMaps = bw as Array<Map<string, PhaseComparison>>;
  const cMaps = cw as Array<Map<string, PhaseComparison>>;
  const keys = [...(cMaps[0]?.keys() ?? [])].filter((k) => [...bMaps, ...cMaps].every((m) => m.has(k)));
  const rows: ServerFigureRow[] = [];
  for (const key of keys) {
    const b = bMaps.map((m) => m.get(key) as PhaseComparison);
    const c = cMaps.map((m) => m.get(key) as PhaseComparison);
    const count = (figure: ServerFigureRow['figure'], pick: (p: PhaseComparison) => number): void => {
      const [vb, vc] = [medianOf(b.map(pick)), medianOf(c.map(pick))];
      rows.push({ window: key, figure, baseline: String(vb ?? 'n/a'), current: String(vc ?? 'n/a'), change: countChange(vb, vc) });
    };
    count('requests', (p) => p.server.requests);
    count('5xx', (p) => p.server.status5xx);
    count('5xx/s', (p) => p.server.rate5xxPerS);
    for (const q of ['p95', 'p99'] as const) {
      const [qb, qc] = [bucketOf(b, q), bucketOf(c, q)];
      const rank = (x: { upper: number | null; lower: number | null }): number => x.upper ?? (x.lower === null ? NaN : Infinity);
      const [rb, rc] = [rank(qb), rank(qc)];
      const change = Number.isNaN(rb) || Number.isNaN(rc) ? 'n/a' : rb === rc ? 'same bucket' : rc > rb ? 'higher bucket' : 'lower bucket';
      rows.push({ window: key, figure: q, baseline: qb.text, current: qc.text, change });
    }
  }
  return { note: SERVER_ROWS_NOTE, rows };
}
