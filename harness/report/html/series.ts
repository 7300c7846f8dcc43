import type { ResultDocument } from '../result.js';

/** A time axis in seconds of the run clock: the middle of each one-second window. */
export function secondsAxis(r: ResultDocument): number[] {
  return r.timeline.map((w) => (w.startMs + w.endMs) / 2000);
}

/** [second, value] pairs; a missing value becomes a gap in the line. */
export function pairs(r: ResultDocument, pick: (w: ResultDocument['timeline'][number]) => number | null): Array<[number, number | '-']> {
  const x = secondsAxis(r);
  return r.timeline.map((w, i) => [x[i] ?? 0, pick(w) ?? '-']);
}

/** One shaded band per fault span, labelled with the fault's name, and lighter ones for recovery. */
export function faultAreas(r: ResultDocument): { data: unknown[] } {
  const data = r.phases
    .filter((p) => p.span.phase === 'fault' || p.span.phase === 'recovery')
    .map((p) => [
      {
        name: p.span.phase === 'fault' ? (p.span.fault ?? 'fault') : '',
        xAxis: p.span.startMs / 1000,
        itemStyle: { color: p.span.phase === 'fault' ? 'rgba(220, 53, 69, 0.14)' : 'rgba(255, 193, 7, 0.12)' },
      },
      { xAxis: p.span.endMs / 1000 },
    ]);
  return { data };
}

export function runEndSeconds(r: ResultDocument): number {
  const last = r.phases[r.phases.length - 1];
  return Math.max(last ? last.span.endMs / 1000 : 0, r.timeline.length);
}

/** Seconds in which the harness itself stalled, hatched grey: latencies there may be the harness's own. */
export function stallAreas(r: ResultDocument): unknown[] {
  return (r.harnessLag?.stalledSeconds ?? []).map((sec) => [
    { name: '', xAxis: sec, itemStyle: { color: 'rgba(108, 117, 125, 0.22)' } },
    { xAxis: sec + 1 },
  ]);
}
