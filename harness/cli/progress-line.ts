import type { ProgressTick } from '../run/gameday.js';

export type Paint = (style: 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan', text: string) => string;

export const noPaint: Paint = (_style, text) => text;

const ANSI: Record<Parameters<Paint>[0], [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };

export const ansiPaint: Paint = (style, text) => `\x1b[${ANSI[style][0]}m${text}\x1b[${ANSI[style][1]}m`;

function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v < 10 ? 1 : 0)}ms`;
}

/** "12s/45s  fault (kill-one-replica)  398 req/s  p95 7.1ms  failures 3 (total 3)" */
export function progressLine(t: ProgressTick, paint: Paint = noPaint): string {
  const elapsed = `${Math.floor(t.elapsedMs / 1000)}s/${Math.round(t.totalMs / 1000)}s`;
  const phase = `${t.phase}${t.fault ? ` (${t.fault})` : ''}`;
  const last = t.last;
  const failures = last?.failures ?? 0;
  const parts = [
    paint('bold', elapsed.padEnd(9)),
    t.fault ? paint('yellow', phase) : paint('cyan', phase),
    `${last ? Math.round(last.requestsPerSec) : '–'} req/s`,
    `p95 ${ms(last?.p95Ms)}`,
    `failures ${failures > 0 ? paint('red', String(failures)) : '0'}${t.totals ? ` (total ${t.totals.failures})` : ''}`,
  ];
  return parts.join('  ');
}
