/**
 * The regression gate's A/A figure: pairs of real Game Days of the same code on the same machine,
 * each pair compared by the gate exactly as `gameday compare` does. A gate that cries wolf on
 * noise is useless in CI: the goal is at least 19 passes in 20 tries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSide } from '../../harness/cli/result-sides.js';
import { compareResults } from '../../harness/report/gate/compare-results.js';
import type { Comparison } from '../../harness/report/gate/types.js';
import { runCli } from '../helpers/cli.js';

export interface AaOutcome {
  tries: number;
  passed: number;
  /** Tries not flagged only because other work disturbed the machine (latency inconclusive). */
  inconclusive: number;
  /** Per try: which metrics the gate flagged, for the record. */
  flagged: string[][];
  /** Per metric: the largest current/baseline ratio seen over the tries. */
  worstRatio: Record<string, number>;
}

async function gameDay(scenario: string, out: string): Promise<void> {
  const r = await runCli(['run', scenario, '--out', out, '--quiet']);
  if (r.code !== 0 && r.code !== 1) throw new Error(`gameday run ${scenario} exited ${r.code}: ${r.stderr}`);
}

function record(outcome: AaOutcome, c: Comparison): void {
  outcome.flagged.push(c.metrics.filter((m) => m.status === 'regressed').map((m) => m.metric));
  if (!c.regressed) outcome.passed++;
  if (!c.regressed && c.metrics.some((m) => m.status === 'inconclusive')) outcome.inconclusive++;
  for (const m of c.metrics) {
    if (m.ratio !== null) outcome.worstRatio[m.metric] = Math.max(outcome.worstRatio[m.metric] ?? 0, m.ratio);
  }
}

function describe(c: Comparison): string {
  const load = c.foreignCores ? `other load ${c.foreignCores.baseline.toFixed(2)}/${c.foreignCores.current.toFixed(2)} cores; ` : '';
  return load + c.metrics
    .filter((m) => m.ratio !== null)
    .map((m) => `${m.metric} ×${(m.ratio as number).toFixed(2)}${m.status === 'ok' ? '' : ` ${m.status}`}`)
    .join(', ');
}

/** `tries` independent pairs (A, A′) of runs of `scenario`, A′ gated against A. */
export async function aaRepetition(scenario: string, tries: number, log: (line: string) => void, keepDir?: string): Promise<AaOutcome> {
  const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'gd-aa-'));
  const outcome: AaOutcome = { tries, passed: 0, inconclusive: 0, flagged: [], worstRatio: {} };
  try {
    for (let i = 0; i < tries; i++) {
      const [a, b] = [join(dir, `${i}-a`), join(dir, `${i}-b`)];
      await gameDay(scenario, a);
      await gameDay(scenario, b);
      const c = compareResults(await loadSide(a), await loadSide(b));
      record(outcome, c);
      log(`  A/A try ${i + 1}/${tries}: ${c.regressed ? `FLAGGED (${outcome.flagged.at(-1)?.join(', ')})` : 'passed'}  ${describe(c)}`);
    }
  } finally {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
