import { HistogramLogWriter } from 'hdr-histogram-js';
import { decodeHistogram } from './hdr.js';
import type { ResultDocument } from './result.js';

/**
 * latency.hlog: every second's latency histogram in HdrHistogram's interval log format (v1.3), as
 * written by hdr-histogram-js's HistogramLogWriter, so HistogramLogProcessor, HdrHistogramVisualizer
 * and every port's log reader can read it. Values are µs; Interval_Max is in ms (ratio 1000).
 * Timestamps are seconds since the run's zero; #[StartTime] gives the epoch of that zero.
 */
export function renderHlog(r: ResultDocument): string {
  let out = '';
  const writer = new HistogramLogWriter((chunk) => {
    out += chunk;
  });
  writer.outputLogFormatVersion();
  writer.outputComment(`[gameday ${r.scenario.name}: per-second response latency in microseconds, by completion time]`);
  const zero = runZeroEpochMs(r);
  if (zero !== undefined) writer.outputStartTime(zero);
  writer.outputLegend();
  r.timeline.forEach((w, i) => {
    const encoded = r.hdr.seconds[i];
    if (encoded === undefined) return;
    writer.outputIntervalHistogram(decodeHistogram(encoded), w.startMs / 1000, w.endMs / 1000, 1000);
  });
  return out;
}

/** The wall-clock instant of the run clock's zero, from any journal event. */
function runZeroEpochMs(r: ResultDocument): number | undefined {
  const e = r.journal[0];
  return e ? Math.round(e.wallMs - e.atMs) : undefined;
}
