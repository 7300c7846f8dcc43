import type { RunPrinter, Terminal } from './printer.js';

/** JSON lines on stdout, one event each; human messages go to stderr only when they are errors. */
export function jsonPrinter(term: Terminal): RunPrinter {
  const emit = (event: string, data: object): void => {
    term.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
  };
  return {
    start: (info) => emit('start', info),
    tick: (t) => emit('tick', t),
    result: (r, files) =>
      emit('result', {
        scenario: r.scenario.name,
        runStatus: r.runStatus,
        verdict: r.verdict,
        passed: r.passed,
        checks: r.checks.map((c) => ({ id: c.id, target: c.target, actual: c.actual, unit: c.unit, passed: c.passed })),
        rto: { platformMs: r.rto.platformMs, clientMs: r.rto.clientMs },
        files,
      }),
    comparison: (c) => emit('comparison', { regressed: c.regressed, metrics: c.metrics }),
    info: () => undefined,
    error: (line) => {
      term.stderr.write(`${line}\n`);
    },
  };
}
