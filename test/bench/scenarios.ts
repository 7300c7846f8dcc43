import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One shipped scenario run `runs` times through the real CLI: how many held, and what failed otherwise. */
export interface ScenarioRepeat {
  scenario: string;
  runs: number;
  passed: number;
  /** Per failed run: its exit code and the checks that failed, "id actual". */
  failures: string[];
  /** Per run: client RTO and p95 after warm-up, for the note. */
  figures: string[];
}

function runCli(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['harness/cli/bin.mjs', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CI: 'true' } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function repeatScenario(scenario: string, runs: number, log: (line: string) => void): Promise<ScenarioRepeat> {
  const out = mkdtempSync(join(tmpdir(), 'gd-bench-scenario-'));
  const r: ScenarioRepeat = { scenario, runs, passed: 0, failures: [], figures: [] };
  try {
    for (let i = 0; i < runs; i++) {
      const dir = join(out, `run-${i}`);
      const code = await runCli(['run', scenario, '--out', dir, '--quiet']);
      const doc = readdirSync(dir).includes('result.json') ? (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, any>) : undefined;
      const failed = (doc?.['checks'] ?? []).filter((c: { passed: boolean }) => !c.passed).map((c: { id: string; actual: number | null; detail?: string }) => `${c.id} ${c.actual}${c.detail ? ` (${c.detail})` : ''}`);
      if (code === 0) r.passed++;
      else r.failures.push(`run ${i + 1}: exit ${code}${failed.length ? `: ${failed.join('; ')}` : ''}`);
      const fig = doc ? `client RTO ${doc['rto']?.clientMs ?? 'n/a'} ms, platform RTO ${doc['rto']?.platformMs ?? 'n/a'} ms, p95 ${doc['latency']?.p95Ms} ms, failures ${doc['requests']?.failures}` : 'no result';
      r.figures.push(fig);
      log(`  ${scenario} run ${i + 1}/${runs}: exit ${code} — ${fig}${failed.length ? ` — failed: ${failed.join('; ')}` : ''}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return r;
}
