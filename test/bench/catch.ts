/**
 * The regression gate's other side: pairs of real runs against a loopback service whose every
 * answer is delayed, the second run with +30 % of the first run's measured p95 added to each
 * answer. The gate must flag every pair (unless it finds the machine disturbed by other work).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSide } from '../../harness/cli/result-sides.js';
import { compareResults } from '../../harness/report/gate/compare-results.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { runCli } from '../helpers/cli.js';
import { delayScenario, startDelayServer } from '../report/delay-server.js';

export interface CatchOutcome {
  tries: number;
  caught: number;
  inconclusive: number;
  ratios: number[];
}

const BASE_DELAY_MS = 20;

export async function catchRepetition(tries: number, log: (line: string) => void): Promise<CatchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'gd-catch-'));
  const server = await startDelayServer(BASE_DELAY_MS);
  const outcome: CatchOutcome = { tries, caught: 0, inconclusive: 0, ratios: [] };
  try {
    const scenario = join(dir, 'catch.yaml');
    writeFileSync(scenario, delayScenario(server.url, 'catch'));
    for (let i = 0; i < tries; i++) {
      const [a, b] = [join(dir, `${i}-a`), join(dir, `${i}-b`)];
      server.delayMs = BASE_DELAY_MS;
      await runCli(['run', scenario, '--out', a, '--quiet']);
      const p95 = (JSON.parse(readFileSync(join(a, 'result.json'), 'utf8')) as ResultDocument).latency.p95Ms ?? BASE_DELAY_MS;
      server.delayMs = BASE_DELAY_MS + 0.3 * p95;
      await runCli(['run', scenario, '--out', b, '--quiet']);
      const m = compareResults(await loadSide(a), await loadSide(b)).metrics.find((x) => x.metric === 'latency.p95');
      if (m?.status === 'regressed') outcome.caught++;
      if (m?.status === 'inconclusive') outcome.inconclusive++;
      outcome.ratios.push(m?.ratio ?? Number.NaN);
      log(`  +30 % try ${i + 1}/${tries}: p95 ×${(m?.ratio ?? Number.NaN).toFixed(2)}, ${m?.status} (${m?.reason})`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
