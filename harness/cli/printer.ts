import type { Comparison } from '../report/gate/types.js';
import type { ResultDocument } from '../report/result.js';
import type { ProgressTick } from '../run/gameday.js';
import { humanPrinter } from './printer-human.js';
import { jsonPrinter } from './printer-json.js';
import { ansiPaint, noPaint } from './progress-line.js';

/** What `gameday run` tells its user while and after it runs. The engine never prints; this does. */
export interface RunPrinter {
  start(info: { scenario: string; platform: string; durationMs: number; outDir: string; repeat?: { index: number; of: number } }): void;
  tick(t: ProgressTick): void;
  result(r: ResultDocument, files: string[]): void;
  comparison(c: Comparison, markdown: string): void;
  info(line: string): void;
  error(line: string): void;
}

export interface PrinterFlags {
  quiet?: boolean;
  json?: boolean;
}

export interface Terminal {
  stdout: { isTTY?: boolean; columns?: number; write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * --json: machine events on stdout, nothing else there. --quiet: errors and the verdict line.
 * Otherwise a live line on a terminal, or a plain line every few seconds when stdout is not a
 * terminal or CI is set. NO_COLOR (any value) turns colour off, as no-color.org asks.
 */
export function choosePrinter(flags: PrinterFlags, term: Terminal): RunPrinter {
  if (flags.json) return jsonPrinter(term);
  const live = Boolean(term.stdout.isTTY) && !term.env['CI'];
  const color = live && !term.env['NO_COLOR'];
  return humanPrinter(term, { live, quiet: Boolean(flags.quiet), paint: color ? ansiPaint : noPaint });
}
