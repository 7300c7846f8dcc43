import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultDocument } from '../../harness/report/result.js';
import { startCli } from '../helpers/cli.js';
import { describeProcess, descendants, isAlive, privateTmp, waitFor } from '../helpers/leftovers.js';

describe('Ctrl-C during a disaster-recovery drill', () => {
  it('right after the database is lost: the restore is completed first, the run says so, nothing is left behind', { timeout: 90_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-dr-'));
    const tmp = privateTmp();
    const run = startCli(['run', 'test/dr/drill-short.yaml', '--out', out], { TMPDIR: tmp.dir }, { detached: true });
    const seen = new Set<number>();
    const cluster = (): string | undefined => readdirSync(tmp.dir).find((e) => e.startsWith('gameday-pg-'));
    try {
      // The backup is written, then the disaster deletes the data directory: Ctrl-C at that moment.
      const backedUp = await waitFor(() => {
        for (const pid of descendants(run.child.pid)) seen.add(pid);
        const c = cluster();
        return c !== undefined && existsSync(join(tmp.dir, c, 'backups', 'backup-1.sql'));
      }, 60_000, 25);
      expect(backedUp, run.stderr()).toBe(true);
      const dir = join(tmp.dir, cluster() as string);
      expect(await waitFor(() => !existsSync(join(dir, 'data', 'PG_VERSION')), 10_000, 10)).toBe(true);
      process.kill(-(run.child.pid as number), 'SIGINT');
      const exit = await run.exit;
      expect(exit.code).toBe(130);
      const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultDocument;
      expect(r.runStatus).toBe('interrupted');
      const drill = r.journal.filter((e) => e.fault === 'dr' && e.type.startsWith('dr.')).map((e) => e.type);
      expect(drill).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.disaster', 'dr.restore-started', 'dr.restore-completed', 'dr.service-healthy', 'dr.interrupted']);
      expect(r.journal.find((e) => e.type === 'dr.interrupted')?.detail).toMatchObject({ outcome: 'restored', reason: 'stopped after the disaster: the restore was completed first' });
      // Every process the run started (the first server, the restored one, the replica, the Service) gone; TMPDIR empty.
      for (const pid of descendants(run.child.pid)) seen.add(pid);
      const alive = (): string[] => [...seen].filter(isAlive).map(describeProcess);
      await waitFor(() => alive().length === 0 && tmp.entries().length === 0, 5000);
      expect(alive()).toEqual([]);
      expect(tmp.entries()).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
    }
  });
});
