/**
 * The regression gate's other side: real runs against a loopback service whose every answer is
 * delayed. A baseline is recorded with --repeat 3; then each current run has +35 % of the
 * baseline's measured p95 added to every answer (≈ +30 % as clients measure it: the p95 ratios
 * are printed), and is gated both against one baseline run
 * (1 run vs 1 run) and against all three (repeated baseline). Every try must be flagged, unless
 * the gate finds the machine disturbed by other work.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSide } from '../../harness/cli/result-sides.js';
import { compareResults, type LoadedResult } from '../../harness/report/gate/compare-results.js';
import { runCli } from '../helpers/cli.js';
import { delayScenario, startDelayServer } from '../report/delay-server.js';

export interface CatchOutcome {
  tries: number;
  /** By gating mode: flagged, and inconclusive (machine disturbed). */
  caught: Record<string, { regressed: number; inconclusive: number; ratios: number[] }>;
}

const BASE_DELAY_MS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function gate(outcome: CatchOutcome, mode: string, base: LoadedResult[], cur: LoadedResult[]): string {
  const m = compareResults(base, cur).metrics.find((x) => x.metric === 'latency.p95');
  const slot = (outcome.caught[mode] ??= { regressed: 0, inconclusive: 0, ratios: [] });
  if (m?.status === 'regressed') slot.regressed++;
  if (m?.status === 'inconclusive') slot.inconclusive++;
  slot.ratios.push(m?.ratio ?? Number.NaN);
  return `${mode}: p95 ×${(m?.ratio ?? Number.NaN).toFixed(2)} ${m?.status}`;
}

export async function catchRepetition(tries: number, log: (line: string) => void): Promise<CatchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'gd-catch-'));
  const server = await startDelayServer(BASE_DELAY_MS);
  const outcome: CatchOutcome = { tries, caught: {} };
  try {
    const scenario = join(dir, 'catch.yaml');
    writeFileSync(scenario, delayScenario(server.url, 'catch'));
    await runCli(['run', scenario, '--out', join(dir, 'baseline'), '--quiet', '--repeat', '3']);
    const baseline = await loadSide(join(dir, 'baseline'));
    // +35 % of the baseline's p95 added to every answer: clients measure ≈ +30 % (timer granularity, fixed overhead).
    server.delayMs = BASE_DELAY_MS + 0.35 * median(baseline.map((r) => r.doc.latency.p95Ms ?? BASE_DELAY_MS));
    for (let i = 0; i < tries; i++) {
      await runCli(['run', scenario, '--out', join(dir, `slow-${i}`), '--quiet']);
      const current = await loadSide(join(dir, `slow-${i}`));
      const single = gate(outcome, '1 run vs 1 run', baseline.slice(i % 3, (i % 3) + 1), current);
      log(`  +30 % try ${i + 1}/${tries}: ${single}; ${gate(outcome, 'baseline of 3 runs vs 1 run', baseline, current)}`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
