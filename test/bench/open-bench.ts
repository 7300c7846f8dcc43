// Runs open-client.ts measurements, each in a fresh process: the client is bundled once to plain
// JavaScript (esbuild, packages left to node_modules) so neither side compiles TypeScript at start.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../helpers/cli.js';
import type { Answer, Ask } from './open-client.js';

export type { Answer, Ask };

export interface OpenClients {
  run(ask: Ask, nodeArgs?: string[]): Promise<Answer>;
  close(): void;
}

/** Bundles open-client.ts into node_modules/.cache (so its imports resolve) and returns a runner. */
export async function openClients(): Promise<OpenClients> {
  const dir = join(ROOT, 'node_modules', '.cache', `gameday-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'open-client.mjs');
  await build({ entryPoints: [join(ROOT, 'test/bench/open-client.ts')], bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', outfile: file, logLevel: 'warning' });
  return {
    run: (ask, nodeArgs = []) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...nodeArgs, file, JSON.stringify(ask)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        const timer = setTimeout(() => child.kill('SIGKILL'), (ask.seconds + 60) * 1000);
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        child.once('error', reject);
        child.once('exit', (code) => {
          clearTimeout(timer);
          const line = out.trim().split('\n').pop() ?? '';
          if (code !== 0 || !line.startsWith('{')) reject(new Error(`open client (${ask.side}) exited ${code}: ${out.slice(-500)}`));
          else resolve(JSON.parse(line) as Answer);
        });
      }),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A row of the bench table (as run.ts prints it). */
export interface BenchRow {
  name: string;
  value: string;
  reference: string;
  ratio: number;
  goal: string;
  /** null: a figure printed for reference, with no goal. */
  met: boolean | null;
}

type Log = (line: string) => void;

/** Median and range of a sample. */
function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length === 0 ? Number.NaN : s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
}
const fmt = (n: number): string => n.toFixed(Math.abs(n) >= 100 ? 0 : 2);
const range = (xs: number[], unit = ''): string => {
  const s = spread(xs);
  return `median ${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)})`;
};
const MB = 1024 * 1024;

/**
 * (k) CPU per request and RSS of a whole process running the open model (start-up included, nothing
 * compiled at start) vs bare autocannon's at the same fixed rate, same target and connections; and
 * beside it the templated workload's CPU vs the Task API preset's reads. `rounds` A/B alternated.
 */
export async function openCpuAndRss(clients: OpenClients, url: string, o: { rate: number; connections: number; seconds: number; rounds: number; log: Log }): Promise<BenchRow[]> {
  const base = { url, connections: o.connections, seconds: o.seconds, ratePerSec: o.rate };
  const runs = { autocannon: [] as Answer[], gameday: [] as Answer[], plain: [] as Answer[] };
  const step = {
    autocannon: async () => void runs.autocannon.push(await clients.run({ side: 'autocannon', ...base })),
    gameday: async () => void runs.gameday.push(await clients.run({ side: 'gameday', ...base })),
    plain: async () => void runs.plain.push(await clients.run({ side: 'gameday', plain: true, ...base })),
  };
  const perReq = (a: Answer): number => a.cpuUs / Math.max(1, a.completed);
  for (let i = 0; i < o.rounds; i++) {
    const order = i % 2 === 0 ? (['autocannon', 'gameday', 'plain'] as const) : (['plain', 'gameday', 'autocannon'] as const);
    for (const side of order) await step[side]();
    const [g, a, p] = [runs.gameday[i] as Answer, runs.autocannon[i] as Answer, runs.plain[i] as Answer];
    o.log(`  (k) round ${i + 1}/${o.rounds} at ${o.rate}/s: CPU µs per request gameday ${fmt(perReq(g))} (preset ${fmt(perReq(p))}), autocannon ${fmt(perReq(a))}; max RSS gameday ${fmt(g.maxRss / MB)} MB, autocannon ${fmt(a.maxRss / MB)} MB`);
  }
  const g = runs.gameday.map(perReq);
  const a = runs.autocannon.map(perReq);
  const p = runs.plain.map(perReq);
  const vsBare = g.map((x, i) => x / (a[i] as number));
  const vsPlain = g.map((x, i) => x / (p[i] as number));
  const rss = runs.gameday.map((r) => r.maxRss / MB);
  const failed = runs.gameday.reduce((n, r) => n + r.failed, 0) + runs.plain.reduce((n, r) => n + r.failed, 0);
  const rate = (xs: Answer[]): number[] => xs.map((r) => r.completed / o.seconds);
  return [
    {
      name: `(k) open model at ${o.rate}/s, ${o.connections} conns, ${o.seconds} s: CPU (user + system) per request of a whole process (start-up included, compiled JavaScript) running gameday's load with the templated workload vs bare autocannon's process at the same rate (overallRate), ${o.rounds} rounds alternated`,
      value: `${range(g, ' µs')} (${range(rate(runs.gameday), ' req/s')}, ${failed} unexpected or failed); ratio per round ${range(vsBare)}`,
      reference: `autocannon ${range(a, ' µs')} (${range(rate(runs.autocannon), ' req/s')})`,
      ratio: spread(vsBare).median,
      goal: '≤ 1.0 (median ratio)',
      met: spread(vsBare).median <= 1.0,
    },
    {
      name: `(k) max RSS of that process at ${o.rate}/s, templated workload, same rounds`,
      value: range(rss, ' MB'),
      reference: `goal 120 MB; autocannon ${range(runs.autocannon.map((r) => r.maxRss / MB), ' MB')}`,
      ratio: spread(rss).median / 120,
      goal: '≤ 1.0 (median ≤ 120 MB)',
      met: spread(rss).median <= 120,
    },
    {
      name: `(k) gameday's CPU per request at ${o.rate}/s: templated workload vs the Task API preset's reads, same rounds`,
      value: `templated ${range(g, ' µs')}; ratio per round ${range(vsPlain)}`,
      reference: `preset ${range(p, ' µs')} (${range(rate(runs.plain), ' req/s')})`,
      ratio: spread(vsPlain).median,
      goal: 'none: for reference',
      met: null,
    },
  ];
}

/**
 * (n) Memory over a long run: RSS once a second of a process running the open model at `rate` for
 * `seconds`; growth from the end of the first minute (or of the later of 30 s and the first third, for
 * a run shorter than three minutes) to the end, and that slope carried over to a 10-minute run. `rounds` runs.
 */
export async function openMemorySoak(clients: OpenClients, url: string, o: { rate: number; connections: number; seconds: number; rounds: number; log: Log }): Promise<BenchRow[]> {
  // Two one-time steps end by about 30 s, neither of them growth: the recorder's open seconds (one
  // full-range histogram a second, per named request too, for the 20 s maximum latency + 3 s) fill
  // up, and V8 doubles its young generation (16 → 32 MB) once the allocation rate is sustained.
  // So a shorter run starts counting from 30 s, not its first third.
  const from = o.seconds >= 180 ? 60 : Math.max(1, Math.min(Math.max(30, Math.floor(o.seconds / 3)), o.seconds - 15));
  const growths: number[] = [];
  const projected: number[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const r = await clients.run({ side: 'gameday', url, connections: o.connections, seconds: o.seconds, ratePerSec: o.rate, rssEverySecond: true });
    const rss = r.rss.map((b) => b / MB);
    const start = rss[from - 1] ?? rss[0] ?? 0;
    // The end: the median of the last 5 samples, so one GC's timing does not decide.
    const end = spread(rss.slice(-5)).median;
    const growth = end - start;
    const perSecond = growth / Math.max(1, rss.length - from);
    growths.push(growth);
    projected.push(perSecond * 540);
    o.log(`  (n) run ${i + 1}/${o.rounds}: RSS ${fmt(start)} MB at ${from} s → ${fmt(end)} MB at ${rss.length} s (+${fmt(growth)} MB; ${fmt(perSecond * 1000)} KB/s → ${fmt(perSecond * 540)} MB over minutes 1–10); max ${fmt(r.maxRss / MB)} MB`);
  }
  const p = spread(projected).median;
  return [
    {
      name: `(n) memory of the open model at ${o.rate}/s, ${o.connections} conns, over ${o.seconds} s (BENCH_SOAK_SECONDS=660 for the full 10 minutes): RSS growth after ${from} s, projected over minutes 1–10, ${o.rounds} run(s)`,
      value: `projected ${range(projected, ' MB')}; measured growth ${range(growths, ' MB')} over ${o.seconds - from} s`,
      reference: 'goal ≤ 30 MB after the first minute of a 10-minute run',
      ratio: p / 30,
      goal: '≤ 1.0 (≤ 30 MB)',
      met: p <= 30,
    },
  ];
}

/**
 * (o) Truth at a moderate rate: gameday's overall p50 and p99 (Task API preset reads, latency from
 * the intended send time) vs the raw-socket open-model reference (reference-client.ts) on the same
 * steady target, same requests, rate and connections, `rounds` A/B alternated.
 */
export async function openTruth(clients: OpenClients, url: string, o: { rate: number; connections: number; seconds: number; rounds: number; log: Log }): Promise<BenchRow[]> {
  const base = { url, connections: o.connections, seconds: o.seconds, ratePerSec: o.rate, plain: true };
  const ours: Answer[] = [];
  const ref: Answer[] = [];
  for (let i = 0; i < o.rounds; i++) {
    for (const side of i % 2 === 0 ? (['raw', 'gameday'] as const) : (['gameday', 'raw'] as const)) (side === 'raw' ? ref : ours).push(await clients.run({ side, ...base }));
    const [g, r] = [ours[i] as Answer, ref[i] as Answer];
    o.log(`  (o) round ${i + 1}/${o.rounds} at ${o.rate}/s: p50 gameday ${fmt(g.p50Ms ?? Number.NaN)} ms vs reference ${fmt(r.p50Ms ?? Number.NaN)} ms, p99 ${fmt(g.p99Ms ?? Number.NaN)} ms vs ${fmt(r.p99Ms ?? Number.NaN)} ms`);
  }
  const ratio = (k: 'p50Ms' | 'p99Ms'): number[] => ours.map((g, i) => (g[k] ?? Number.NaN) / ((ref[i] as Answer)[k] ?? Number.NaN));
  return (['p50Ms', 'p99Ms'] as const).map((k) => {
    const r = ratio(k);
    const m = spread(r).median;
    return {
      name: `(o) ${k.slice(0, 3)} at ${o.rate}/s on a steady target, ${o.connections} conns, ${o.seconds} s: gameday (latency from the intended send time) vs a raw-socket open-model client scheduled as wrk2 (no wrk2 installable), ${o.rounds} rounds alternated`,
      value: `gameday ${range(ours.map((g) => g[k] ?? Number.NaN), ' ms')}; ratio per round ${range(r)}`,
      reference: `reference ${range(ref.map((g) => g[k] ?? Number.NaN), ' ms')}`,
      ratio: m,
      goal: 'within 10 % (0.9–1.1, median ratio)',
      met: m >= 0.9 && m <= 1.1,
    };
  });
}

/**
 * (p) Tail jitter at a high rate: per second of a gameday run, the p99; a second whose p99 is above
 * 3× the median second's is a spike, explained when the lag monitor marks that second stalled
 * (the harness's own loop delay or send lag over its threshold). `rounds` runs.
 */
export async function openSpikes(clients: OpenClients, url: string, o: { rate: number; connections: number; seconds: number; rounds: number; log: Log }): Promise<BenchRow[]> {
  let spikes = 0;
  let unexplained = 0;
  let judged = 0;
  const notes: string[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const r = await clients.run({ side: 'gameday', url, connections: o.connections, seconds: o.seconds, ratePerSec: o.rate, plain: true });
    // The first and last second are partial: not judged.
    const seconds = (r.seconds ?? []).slice(1, -1).filter((s) => s.p99Ms !== null);
    const median = spread(seconds.map((s) => s.p99Ms as number)).median;
    judged += seconds.length;
    const run = seconds.filter((s) => (s.p99Ms as number) > 3 * median);
    spikes += run.length;
    const bad = run.filter((s) => !s.stalled);
    unexplained += bad.length;
    o.log(`  (p) run ${i + 1}/${o.rounds} at ${o.rate}/s: ${fmt(r.completed / o.seconds)} req/s, median second p99 ${fmt(median)} ms, ${run.length} spike(s) > 3× (${run.map((s) => `${fmt(s.p99Ms as number)} ms loop ${fmt(s.loopDelayMaxMs)} send lag ${fmt(s.sendLagMaxMs ?? 0)}`).join('; ') || 'none'}), ${bad.length} not explained by the lag monitor`);
    if (bad.length) notes.push(`run ${i + 1}: ${bad.map((s) => `${fmt(s.p99Ms as number)} ms`).join(', ')}`);
  }
  return [
    {
      name: `(p) per-second p99 at ${o.rate}/s, ${o.connections} conns, ${o.seconds} s × ${o.rounds} runs: seconds above 3× the median second that the lag monitor does not explain (its stall threshold crossed by the loop delay or the send lag)`,
      value: `${spikes} spike(s) in ${judged} seconds: ${spikes - unexplained} the harness's own (the lag monitor marks the second stalled), ${unexplained} unexplained${notes.length ? ` (${notes.join(' | ')})` : ''}`,
      reference: 'goal 0 unexplained',
      ratio: judged > 0 ? unexplained / judged : Number.NaN,
      goal: '= 0',
      met: judged > 0 && unexplained === 0,
    },
  ];
}
