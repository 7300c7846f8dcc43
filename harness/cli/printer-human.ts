import { notEvaluated, renderSummary } from '../report/console.js';
import type { ResultDocument } from '../report/result.js';
import type { RunPrinter, Terminal } from './printer.js';
import { noPaint, progressLine, type Paint } from './progress-line.js';

const PLAIN_EVERY_MS = 5000;

function verdictLine(r: ResultDocument, paint: Paint): string {
  const verdict = r.runStatus === 'completed' ? r.verdict.toUpperCase() : `${r.runStatus.toUpperCase()} (verdict ${r.verdict})`;
  const passed = r.checks.filter((c) => c.passed).length;
  return `${r.scenario.name}: ${paint(r.passed ? 'green' : 'red', verdict)} — ${passed}/${r.checks.length} checks passed${notEvaluated(r)}`;
}

/** People: a live line on a terminal (redrawn in place), else a plain line every few seconds. */
export function humanPrinter(term: Terminal, opts: { live: boolean; quiet: boolean; paint: Paint }): RunPrinter {
  const { paint } = opts;
  let lastPlainAt = -Infinity;
  let lineOpen = false;
  const out = (line: string): void => {
    if (opts.quiet) return;
    clearLive();
    term.stdout.write(`${line}\n`);
  };
  const clearLive = (): void => {
    if (lineOpen) term.stdout.write('\r\x1b[2K');
    lineOpen = false;
  };
  return {
    start: (i) => out(`gameday: ${i.scenario} on the ${i.platform} platform, ${i.durationMs / 1000}s${i.repeat ? `, run ${i.repeat.index} of ${i.repeat.of}` : ''}, writing ${i.outDir}`),
    tick: (t) => {
      if (opts.quiet) return;
      if (opts.live) {
        // Never wider than the terminal, or the line would wrap and could not be redrawn in place.
        const width = Math.max(20, (term.stdout.columns ?? 120) - 1);
        const plain = progressLine(t);
        term.stdout.write(`\r\x1b[2K${plain.length > width ? plain.slice(0, width) : progressLine(t, paint)}`);
        lineOpen = true;
      } else if (t.elapsedMs - lastPlainAt >= PLAIN_EVERY_MS - 500) {
        lastPlainAt = t.elapsedMs;
        out(`  ${progressLine(t)}`);
      }
    },
    result: (r, files) => {
      if (opts.quiet) {
        term.stdout.write(`${verdictLine(r, paint)}\n`);
        return;
      }
      // The summary's own last line is the verdict: printed below in colour instead.
      out(renderSummary(r, { color: paint !== noPaint }).replace(/\n[^\n]*$/, ''));
      out(verdictLine(r, paint));
      out(`reports: ${files.join(', ')}`);
    },
    comparison: (c, markdown) => {
      if (opts.quiet) term.stdout.write(`regression gate: ${c.regressed ? 'REGRESSED' : 'no regression'}\n`);
      else out(markdown);
    },
    info: out,
    error: (line) => {
      clearLive();
      term.stderr.write(`${line}\n`);
    },
  };
}
