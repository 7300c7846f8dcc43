import { decodeHistogram, recordedValues } from '../hdr.js';
import type { ResultDocument } from '../result.js';
import type { SparseWindow, WindowSample } from './bootstrap.js';

/**
 * The per-second windows the gate resamples: every second after the warm-up that saw a response
 * (seconds past the run's end belong to its last phase, as in the phase statistics), from every
 * repetition of a side.
 */
export function latencyWindows(docs: readonly ResultDocument[]): WindowSample {
  const raw: Array<{ values: number[]; counts: number[] }> = [];
  const runs: number[][] = [];
  for (const doc of docs) {
    const run: number[] = [];
    doc.timeline.forEach((w, i) => {
      const encoded = doc.hdr.seconds[i];
      if (w.phase === 'warmup' || w.responses === 0 || encoded === undefined) return;
      run.push(raw.length);
      raw.push(recordedValues(decodeHistogram(encoded)));
    });
    if (run.length > 0) runs.push(run);
  }
  const values = Float64Array.from(new Set(raw.flatMap((r) => r.values))).sort();
  const position = new Map<number, number>();
  values.forEach((v, i) => position.set(v, i));
  const windows: SparseWindow[] = raw.map((r) => ({
    index: Uint32Array.from(r.values, (v) => position.get(v) ?? 0),
    counts: Float64Array.from(r.counts),
  }));
  return { values, windows, runs };
}
