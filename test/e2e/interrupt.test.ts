import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { startCli } from '../helpers/cli.js';
import { describeProcess, descendants, gamedayTempEntries, isAlive, waitFor } from '../helpers/leftovers.js';

describe.each(['SIGINT', 'SIGTERM'] as const)('%s in the middle of a Game Day', (signal) => {
  it('stops load, tears everything down, keeps the partial result and exits 130', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-int-'));
    const tempBefore = gamedayTempEntries();
    const run = startCli(['run', 'test/scenarios/pod-kill-short.yaml', '--out', out]);
    try {
      // Wait until the platform is up and load is flowing (the first progress line), then a bit more.
      expect(await waitFor(() => run.stdout().includes('s/14s'), 60_000, 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 3000));
      const seen = new Set<number>();
      // Every process the run started: PostgreSQL, the Service, the replicas.
      await waitFor(() => {
        for (const pid of descendants(run.child.pid)) seen.add(pid);
        return seen.size >= 5;
      }, 5000);
      expect(seen.size).toBeGreaterThanOrEqual(5);
      run.child.kill(signal);
      const exit = await run.exit;
      expect(exit.code).toBe(130);
      expect(run.stderr()).toContain(`${signal}: stopping load`);
      const alive = (): string[] => [...seen].filter(isAlive).map(describeProcess);
      await waitFor(() => alive().length === 0, 2000);
      expect(alive()).toEqual([]);
      expect(gamedayTempEntries().filter((e) => !tempBefore.includes(e))).toEqual([]);
      expect(existsSync(join(out, 'result.json'))).toBe(true);
      const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
      expect(r.runStatus).toBe('interrupted');
      expect(r.passed).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
    }
  });
});
