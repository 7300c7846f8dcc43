/**
 * Timings of the Task API process contract, for reports (not a test):
 *   node --import tsx test/task-api/measure.ts
 * - serve: spawn to the `listening` line, with a cold tsx cache (a fresh TMPDIR) and a warm one;
 * - seed: 10,000 rows, spawn to exit, and the seed's own elapsedMs (from its stderr log).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from './pg.js';
import { runTaskApi, startReplica, stopReplica } from './replica.js';

const RUNS = 3;

async function measureSeed(createDatabase: (name: string) => Promise<string>): Promise<{ wallMs: number[]; ownMs: number[] }> {
  const wallMs: number[] = [];
  const ownMs: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const seeded = await runTaskApi('seed', { DATABASE_URL: await createDatabase(`measure_seed_${i}`) });
    if (seeded.code !== 0) throw new Error(seeded.stderr);
    wallMs.push(Math.round(seeded.elapsedMs));
    ownMs.push((JSON.parse(seeded.stderr.trim().split('\n').at(-1) ?? '{}') as { elapsedMs: number }).elapsedMs);
  }
  return { wallMs, ownMs };
}

async function measureServe(url: string, cold: boolean): Promise<number[]> {
  const startMs: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const tmp = cold ? mkdtempSync(join(tmpdir(), 'gd-tsx-cold-')) : undefined;
    const replica = await startReplica({ DATABASE_URL: url, ...(tmp ? { TMPDIR: tmp } : {}) });
    startMs.push(Math.round(replica.startMs));
    await stopReplica(replica);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return startMs;
}

const postgres = await startTestPostgres();
try {
  const seed = await measureSeed(postgres.createDatabase);
  const url = await postgres.createDatabase('measure_serve');
  const cold = await measureServe(url, true);
  const warm = await measureServe(url, false);
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(JSON.stringify({ serveColdMs: cold, serveWarmMs: warm, seed10kWallMs: seed.wallMs, seed10kOwnMs: seed.ownMs, load }));
} finally {
  await postgres.stop();
}
