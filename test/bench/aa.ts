/**
 * The regression gate's A/A figure: real Game Days of the same code on the same machine, gated
 * exactly as `gameday compare` does. A gate that cries wolf on noise is useless in CI: the goal
 * is at least 19 passes in 20 tries. Two ways to gate:
 *  - pairs: one baseline run, one current run (the minimal gate: noise within a run only);
 *  - repeated baseline: the baseline recorded once with --repeat N (as a nightly job on main
 *    would), then each current run gated against it (run-to-run noise measured too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSide } from '../../harness/cli/result-sides.js';
import { compareResults } from '../../harness/report/gate/compare-results.js';
import type { Comparison } from '../../harness/report/gate/types.js';
import { runCli } from '../helpers/cli.js';

export interface AaOutcome {
  mode: string;
  tries: number;
  passed: number;
  /** Tries not flagged only because other work disturbed the machine (latency inconclusive). */
  inconclusive: number;
  /** Per metric: the largest current/baseline ratio seen over the tries. */
  worstRatio: Record<string, number>;
}

async function gameDay(scenario: string, out: string, extra: string[] = []): Promise<void> {
  const r = await runCli(['run', scenario, '--out', out, '--quiet', ...extra]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`gameday run ${scenario} exited ${r.code}: ${r.stderr}`);
}

function record(outcome: AaOutcome, c: Comparison): void {
  if (!c.regressed) outcome.passed++;
  if (!c.regressed && c.metrics.some((m) => m.status === 'inconclusive')) outcome.inconclusive++;
  for (const m of c.metrics) {
    if (m.ratio !== null) outcome.worstRatio[m.metric] = Math.max(outcome.worstRatio[m.metric] ?? 0, m.ratio);
  }
}

export function describeComparison(c: Comparison): string {
  const load = c.foreignCores ? `other load ${c.foreignCores.baseline.toFixed(2)}/${c.foreignCores.current.toFixed(2)} cores; ` : '';
  const flagged = c.metrics.filter((m) => m.status === 'regressed').map((m) => m.metric);
  const ratios = c.metrics
    .filter((m) => m.ratio !== null)
    .map((m) => `${m.metric} ×${(m.ratio as number).toFixed(2)}${m.status === 'ok' ? '' : ` ${m.status}`}`)
    .join(', ');
  return `${c.regressed ? `FLAGGED (${flagged.join(', ')})` : 'passed'}  ${load}${ratios}`;
}

/**
 * `tries` A/A comparisons of `scenario`: with `baselineRepeat` 1, independent pairs (A, A′);
 * with more, one baseline of that many repetitions and `tries` current runs against it.
 */
export async function aaRepetition(scenario: string, tries: number, baselineRepeat: number, log: (line: string) => void, keepDir?: string): Promise<AaOutcome> {
  const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'gd-aa-'));
  const mode = baselineRepeat > 1 ? `baseline of ${baselineRepeat} runs vs 1 run` : '1 run vs 1 run';
  const outcome: AaOutcome = { mode, tries, passed: 0, inconclusive: 0, worstRatio: {} };
  const shared = join(dir, 'baseline');
  try {
    if (baselineRepeat > 1) await gameDay(scenario, shared, ['--repeat', String(baselineRepeat)]);
    for (let i = 0; i < tries; i++) {
      const [a, b] = [baselineRepeat > 1 ? shared : join(dir, `${i}-a`), join(dir, `${i}-b`)];
      if (baselineRepeat <= 1) await gameDay(scenario, a);
      await gameDay(scenario, b);
      const c = compareResults(await loadSide(a), await loadSide(b));
      record(outcome, c);
      log(`  A/A (${mode}) try ${i + 1}/${tries}: ${describeComparison(c)}`);
    }
  } finally {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
