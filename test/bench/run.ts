/**
 * npm run bench: ratios measured in one run, each against a reference on the same machine.
 *  (a) Task API GET /tasks/:id through the Service vs pgbench -S on the same PostgreSQL, equal clients (goal ≥ 0.5)
 *  (b) gameday's load with HDR windows vs bare autocannon on the same target (goal ≥ 0.95)
 *  (c) cold start to all replicas ready (goal ≤ 5 s)
 *  (d) the regression gate's A/A pass rate on real pod-kill Game Days of the same code, gated 1 run vs
 *      1 run and against a baseline recorded with --repeat 3 (goal ≥ 19/20 each)
 *  (e) the regression gate's catch rate on real runs with +30 % latency, both ways (goal: every try)
 *  (f) the latency proxy with no delay vs a direct database connection, Task API throughput (goal ≥ 0.95)
 *  (g) the latency proxy's cost to the harness's event loop under pgbench -S through it, on this thread
 *      vs in its worker: the loop's busy share (goal: the worker's within 2 points of no proxy at all),
 *      with its delay p99 and the send lag alongside
 *  (h) every shipped scenario under scenarios/, run BENCH_SCENARIO_RUNS times (default 5) through the CLI on
 *      the embedded default: how many held (goal: every run)
 *  (i) a ramping load (load.model: ramping) up, held and down over BENCH_RAMP_SECONDS (default 60) against a
 *      target in its own process: requests received per second vs the rate's integral (goal: every second
 *      past the first of its stage within 2 %)
 *  (j) gameday's load with a templated workload (three requests: a body template, a capture into a pool
 *      another request picks from) vs bare autocannon on the same three routes, closed model, same
 *      connections: req/s (goal ≥ 0.95), A/B alternated BENCH_AB_ROUNDS times (default 5)
 *  (k) open model at BENCH_OPEN_RATE (default 5000/s), BENCH_OPEN_CONNECTIONS (default 50), BENCH_OPEN_SECONDS (default
 *      20): CPU time per request of a whole process (start-up included, bundled JavaScript) running the templated
 *      workload vs bare autocannon's process at the same rate (goal ≤ 1.0), and that process's max RSS (goal ≤ 120 MB);
 *      beside it, the templated workload's CPU per request vs the Task API preset's reads
 *  (n) memory of the open model at BENCH_OPEN_RATE over BENCH_SOAK_SECONDS (default 120; 660 for the 10-minute goal):
 *      RSS growth after the first minute, projected over minutes 1–10 (goal ≤ 30 MB), BENCH_SOAK_ROUNDS runs (default 1)
 *  (o) p50 and p99 at BENCH_TRUTH_RATE (default 1000/s) on a steady target vs a raw-socket open-model reference client
 *      scheduled as wrk2 (goal within 10 %)
 *  (p) per-second p99 at BENCH_SPIKE_RATE (default 10000/s): spikes above 3× the median second that the lag monitor
 *      does not explain (goal 0)
 *  (l) start-up of the compiled CLI (npm run build; rebuilt first): wall time of `gameday --help` (goal ≤ 0.2 s)
 *      and `gameday validate scenarios/pod-kill.yaml` (goal ≤ 0.4 s), BENCH_STARTUP_RUNS times (default 10), and
 *      command → first request of `gameday run scenarios/pod-kill.yaml` on the embedded default (goal ≤ 3 s),
 *      BENCH_FIRST_REQUEST_RUNS times (default 5); each A/B alternated with the same command from the
 *      TypeScript sources through tsx (GAMEDAY_FROM_SOURCE=1), printed beside it
 *  (m) Task API GET /tasks/:id at saturation through the Service (connections handed over to the replicas)
 *      vs straight to the replicas' ports, same connections, BENCH_AB_ROUNDS rounds alternated (goal ≥ 0.95,
 *      median ratio); the proxying Service process (other apps' path) on the same replicas beside it; and the
 *      harness's CPU per new connection (BENCH_CHURN_CONNS, default 2000, one request each) for both; and the
 *      same paired (via and direct at the same instants, as many connections each side and per replica), drift-free
 */
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { aaRepetition } from './aa.js';
import { catchRepetition } from './catch.js';
import { bareAutocannon, harnessLoad, hasPgbench, pgbenchSelect, startTargetServer } from './measure.js';
import { proxyLoopCost, proxyOverhead, type LoopCostRow } from './proxy.js';
import { repeatScenario } from './scenarios.js';
import { START_STEPS, buildCompiled, commandToFirstRequest, commandToFirstRequestSteps, commandWall, compiledIsFresh, type StartMode } from './startup.js';
import { rampFollowing } from './ramp.js';
import { serviceVsDirect } from './service-handoff.js';
import { bareOrdersClosed, harnessRun, spread, startOrdersTarget } from './templated.js';
import { openClients, openCpuAndRss, openMemorySoak, openSpikes, openTruth, type BenchRow } from './open-bench.js';
import { readdirSync } from 'node:fs';

const CLIENTS = 16;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);

const platformPlan = localPlatformPlan();

type Row = BenchRow;
const rows: Row[] = [];
const fmt = (n: number): string => n.toFixed(n >= 100 ? 0 : 2);

async function deployed<T>(fn: (p: LocalPlatform, url: string, dbUrl: string, journal: Journal) => Promise<T>): Promise<T> {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  const platform = new LocalPlatform(platformPlan, { journal }, clock);
  try {
    const d = await platform.deploy(new AbortController().signal);
    return await fn(platform, d.serviceUrl, d.databaseUrl as string, journal);
  } finally {
    await platform.teardown();
  }
}

async function coldStart(): Promise<void> {
  const samples: Array<{ replicas: number; total: number }> = [];
  for (let i = 0; i < 3; i++) {
    await deployed(async (_p, _u, _d, journal) => {
      const ready = journal.events().find((e) => e.type === 'platform.ready');
      samples.push({ replicas: Number(ready?.detail?.['replicasReadyMs']), total: Number(ready?.detail?.['totalMs']) });
    });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const total = median(samples.map((s) => s.total)) / 1000;
  const replicas = median(samples.map((s) => s.replicas)) / 1000;
  rows.push({ name: '(c) cold start → 3 replicas ready', value: `${fmt(total)} s (replicas alone ${fmt(replicas)} s)`, reference: 'goal 5 s', ratio: total / 5, goal: '≤ 1.0 (≤ 5 s)', met: total <= 5 });
}

async function serviceVsPgbench(): Promise<void> {
  if (!(await hasPgbench())) {
    rows.push({ name: '(a) Task API vs pgbench -S', value: 'skipped', reference: 'pgbench not installed (apt-get install postgresql-15)', ratio: Number.NaN, goal: '≥ 0.5', met: false });
    return;
  }
  await deployed(async (_p, url, dbUrl) => {
    await bareAutocannon(url, CLIENTS, 2, 10_000); // warm the replicas' JIT and pools
    const api = await bareAutocannon(url, CLIENTS, SECONDS, 10_000);
    const pg = await pgbenchSelect(dbUrl, CLIENTS, SECONDS);
    rows.push({ name: `(a) GET /tasks/:id via Service vs pgbench -S, ${CLIENTS} clients`, value: `${fmt(api)} req/s`, reference: `${fmt(pg)} tps`, ratio: api / pg, goal: '≥ 0.5', met: api / pg >= 0.5 });
  });
}

async function harnessVsAutocannon(): Promise<void> {
  const target = await startTargetServer();
  try {
    await bareAutocannon(target.url, CLIENTS, 2, 1000);
    // A B B A, so drift of the machine weighs on both sides alike.
    const bare = [await bareAutocannon(target.url, CLIENTS, SECONDS, 1000)];
    const ours = [await harnessLoad(target.url, CLIENTS, SECONDS, 1000), await harnessLoad(target.url, CLIENTS, SECONDS, 1000)];
    bare.push(await bareAutocannon(target.url, CLIENTS, SECONDS, 1000));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(ours) / mean(bare);
    rows.push({ name: `(b) gameday load + HDR windows vs bare autocannon, ${CLIENTS} conns`, value: `${fmt(mean(ours))} req/s`, reference: `${fmt(mean(bare))} req/s`, ratio, goal: '≥ 0.95', met: ratio >= 0.95 });
  } finally {
    target.stop();
  }
}

async function gateAa(): Promise<void> {
  const tries = Number(process.env['BENCH_AA_TRIES'] ?? 20);
  const scenario = process.env['BENCH_AA_SCENARIO'] ?? 'test/bench/aa-pod-kill.yaml';
  // BENCH_AA_BASELINE: repetitions of the recorded baseline, comma-separated modes (1 = pairs of single runs).
  const modes = (process.env['BENCH_AA_BASELINE'] ?? '1,3').split(',').map(Number);
  for (const repeat of tries > 0 ? modes : []) {
    const keep = process.env['BENCH_AA_KEEP'] ? `${process.env['BENCH_AA_KEEP']}/baseline-${repeat}` : undefined;
    const aa = await aaRepetition(scenario, tries, repeat, (line) => process.stdout.write(`${line}\n`), keep);
    const worst = Object.entries(aa.worstRatio).map(([m, r]) => `${m} ×${r.toFixed(2)}`).join(', ');
    const goal = Math.ceil(tries * 0.95);
    rows.push({ name: `(d) regression gate A/A, ${aa.mode}: ${tries} tries of ${scenario}`, value: `${aa.passed}/${tries} passed, ${aa.inconclusive} of them inconclusive on latency (machine disturbed by other work); worst ratios ${worst}`, reference: `goal ≥ ${goal}/${tries}`, ratio: aa.passed / tries, goal: '≥ 0.95', met: aa.passed >= goal });
  }
}

async function gateCatch(): Promise<void> {
  const tries = Number(process.env['BENCH_CATCH_TRIES'] ?? 5);
  if (tries <= 0) return;
  const c = await catchRepetition(tries, (line) => process.stdout.write(`${line}\n`));
  for (const [mode, r] of Object.entries(c.caught)) {
    const ratios = r.ratios.map((x) => x.toFixed(2)).join(', ');
    rows.push({ name: `(e) regression gate catches +30 % latency, ${mode}: ${tries} tries`, value: `${r.regressed}/${tries} caught (${r.inconclusive} inconclusive: machine disturbed; p95 ratios ${ratios})`, reference: `goal ${tries}/${tries}`, ratio: r.regressed / tries, goal: '= 1.0', met: r.regressed === tries });
  }
}

async function proxyCost(): Promise<void> {
  const r = await proxyOverhead(CLIENTS, SECONDS);
  rows.push({ name: `(f) latency proxy with no delay vs direct database connection, Task API via Service, ${CLIENTS} clients`, value: `${fmt(r.proxied)} req/s`, reference: `${fmt(r.direct)} req/s`, ratio: r.ratio, goal: '≥ 0.95', met: r.ratio >= 0.95 });
}

async function proxyLoop(): Promise<void> {
  if (!(await hasPgbench())) {
    rows.push({ name: '(g) latency proxy cost to the event loop', value: 'skipped', reference: 'pgbench not installed (apt-get install postgresql-15)', ratio: Number.NaN, goal: 'worker busy ≤ no proxy + 2 points', met: false });
    return;
  }
  const rate = Number(process.env['BENCH_PROXY_RATE'] ?? 2000);
  const all = await proxyLoopCost(CLIENTS, SECONDS, rate);
  for (const r of all) {
    process.stdout.write(`  ${r.mode.padEnd(8)} delay ${r.delay.padEnd(14)} ${fmt(r.tps)} tps  loop busy ${(r.elu * 100).toFixed(1)} %  loop p99 median ${fmt(r.loopP99MedianMs)} ms, worst ${fmt(r.loopP99WorstMs)} ms, max ${fmt(r.loopMaxMs)} ms  send lag p99 worst ${fmt(r.sendLagP99WorstMs)} ms, max ${fmt(r.sendLagMaxMs)} ms  stalled s ${r.stalledSeconds}\n`);
  }
  const mean = (xs: LoopCostRow[], f: (r: LoopCostRow) => number): number => xs.reduce((a, r) => a + f(r), 0) / xs.length;
  const direct = all.filter((r) => r.mode === 'direct');
  const p99 = (r: LoopCostRow): number => r.loopP99MedianMs;
  const elu = (r: LoopCostRow): number => r.elu;
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  for (const delay of [...new Set(all.filter((r) => r.mode !== 'direct').map((r) => r.delay))]) {
    const of = (mode: LoopCostRow['mode']): LoopCostRow[] => all.filter((r) => r.mode === mode && r.delay === delay);
    const [inLoop, worker] = [of('in-loop'), of('worker')];
    const excess = mean(worker, elu) - mean(direct, elu);
    rows.push({
      name: `(g) latency proxy in a worker vs on the harness's loop, delay ${delay}, pgbench -S ${CLIENTS} clients at ${rate} tps through it: the harness loop's busy share, and its delay p99 (median over seconds)`,
      value: `worker: busy ${pct(mean(worker, elu))}, p99 ${fmt(mean(worker, p99))} ms (max ${fmt(mean(worker, (r) => r.loopMaxMs))} ms, ${fmt(mean(worker, (r) => r.tps))} tps)`,
      reference: `in-loop: busy ${pct(mean(inLoop, elu))}, p99 ${fmt(mean(inLoop, p99))} ms (max ${fmt(mean(inLoop, (r) => r.loopMaxMs))} ms, ${fmt(mean(inLoop, (r) => r.tps))} tps); no proxy: busy ${pct(mean(direct, elu))}, p99 ${fmt(mean(direct, p99))} ms`,
      ratio: mean(worker, elu) / mean(inLoop, elu),
      goal: 'worker busy ≤ no proxy + 2 points',
      met: excess <= 0.02,
    });
  }
}

async function shippedScenarios(): Promise<void> {
  const runs = Number(process.env['BENCH_SCENARIO_RUNS'] ?? 5);
  const files = (process.env['BENCH_SCENARIOS']?.split(',') ?? readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => `scenarios/${f}`)).sort();
  for (const file of files) {
    const r = await repeatScenario(file, runs, (line) => process.stdout.write(`${line}\n`));
    rows.push({ name: `(h) ${file}: ${runs} runs on the embedded default`, value: `${r.passed}/${runs} held${r.failures.length ? ` — ${r.failures.join(' | ')}` : ''}`, reference: `goal ${runs}/${runs}`, ratio: r.passed / runs, goal: '= 1.0', met: r.passed === runs });
  }
}

async function rampRate(): Promise<void> {
  // 100 → peak/s over 2/5 of the time, held 1/5, back to 100/s over 2/5.
  const seconds = Number(process.env['BENCH_RAMP_SECONDS'] ?? 60);
  const peak = Number(process.env['BENCH_RAMP_PEAK'] ?? 1500);
  const fifth = (seconds * 1000) / 5;
  const stages = [{ toPerSec: peak, overMs: 2 * fifth }, { toPerSec: peak, overMs: fifth }, { toPerSec: 100, overMs: 2 * fifth }];
  const r = await rampFollowing(100, stages, 64);
  rows.push({
    name: `(i) ramping load 100 → ${peak} → 100/s over ${seconds} s, 64 conns: requests received per second vs the rate's integral`,
    value: `${r.within}/${r.judged} seconds within 2 % (worst ${r.worstPct.toFixed(2)} % at second ${r.worstSecond}; of those outside, ${r.missedInStall} with a send-lag stall over 10 ms at an edge); ${r.sent} sent of ${r.planned} planned, ${r.dropped} dropped; send lag p99 ${fmt(r.sendLagP99Ms)} ms, max ${fmt(r.sendLagMaxMs)} ms`,
    reference: `goal ${r.judged}/${r.judged}`,
    ratio: r.judged > 0 ? r.within / r.judged : Number.NaN,
    goal: '= 1.0',
    met: r.judged > 0 && r.within === r.judged,
  });
}

const ROUNDS = Math.max(1, Math.min(50, Number(process.env['BENCH_AB_ROUNDS'] ?? 5)));
const range = (xs: number[], unit = ''): string => {
  const s = spread(xs);
  return `median ${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)})`;
};

async function templatedVsAutocannon(): Promise<void> {
  const target = await startOrdersTarget();
  try {
    await bareOrdersClosed(target.url, CLIENTS, 2); // warm both sides
    await harnessRun(target.url, CLIENTS, 2);
    const bare: number[] = [];
    const ours: number[] = [];
    let failed = 0;
    const measureBare = async (): Promise<void> => void bare.push(await bareOrdersClosed(target.url, CLIENTS, SECONDS));
    const measureOurs = async (): Promise<void> => {
      const r = await harnessRun(target.url, CLIENTS, SECONDS);
      failed += r.failed;
      ours.push(r.completed / SECONDS);
    };
    // A B, B A, …: drift of the machine weighs on both sides alike.
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) (await measureBare(), await measureOurs());
      else (await measureOurs(), await measureBare());
      process.stdout.write(`  (j) round ${i + 1}/${ROUNDS}: gameday ${fmt(ours[i] as number)} req/s, autocannon ${fmt(bare[i] as number)} req/s\n`);
    }
    const ratios = ours.map((o, i) => o / (bare[i] as number));
    const ratio = spread(ratios).median;
    rows.push({
      name: `(j) gameday load, templated workload (3 requests: body template, capture → pool → pick) + HDR windows vs bare autocannon on the same routes, closed, ${CLIENTS} conns, ${ROUNDS} rounds A/B alternated`,
      value: `${range(ours, ' req/s')}, ${failed} unexpected or failed; ratio per round ${range(ratios)}`,
      reference: `${range(bare, ' req/s')}`,
      ratio,
      goal: '≥ 0.95 (median ratio)',
      met: ratio >= 0.95,
    });
  } finally {
    target.stop();
  }
}

/** (k), (n), (o), (p): the open model, each measurement a fresh process of its own (open-bench.ts). */
async function openModel(parts: string): Promise<void> {
  const target = await startOrdersTarget();
  const clients = await openClients().catch((e: unknown) => (target.stop(), Promise.reject(e)));
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const connections = env('BENCH_OPEN_CONNECTIONS', 50);
  try {
    await clients.run({ side: 'gameday', url: target.url, connections, seconds: 2, ratePerSec: 1000 }); // warm the target
    const opts = (rate: number, seconds: number, rounds = ROUNDS) => ({ rate, connections, seconds, rounds, log });
    if (parts.includes('k')) rows.push(...(await openCpuAndRss(clients, target.url, opts(env('BENCH_OPEN_RATE', 5000), env('BENCH_OPEN_SECONDS', 20)))));
    if (parts.includes('o')) rows.push(...(await openTruth(clients, target.url, opts(env('BENCH_TRUTH_RATE', 1000), env('BENCH_OPEN_SECONDS', 20)))));
    if (parts.includes('p')) rows.push(...(await openSpikes(clients, target.url, opts(env('BENCH_SPIKE_RATE', 10_000), env('BENCH_OPEN_SECONDS', 20)))));
    if (parts.includes('n')) rows.push(...(await openMemorySoak(clients, target.url, opts(env('BENCH_OPEN_RATE', 5000), env('BENCH_SOAK_SECONDS', 120), env('BENCH_SOAK_ROUNDS', 1)))));
  } finally {
    clients.close();
    target.stop();
  }
}

async function startup(): Promise<void> {
  const runs = Math.max(1, Math.min(100, Number(process.env['BENCH_STARTUP_RUNS'] ?? 10)));
  const firstRuns = Math.max(1, Math.min(20, Number(process.env['BENCH_FIRST_REQUEST_RUNS'] ?? 5)));
  const scenario = 'scenarios/pod-kill.yaml';
  await buildCompiled();
  let rebuilt = 0;
  // A source edited meanwhile makes bin.mjs run the sources: rebuild, so the compiled side stays compiled.
  const fresh = async (): Promise<void> => {
    if (!compiledIsFresh()) (rebuilt++, await buildCompiled());
  };
  const measure = async (n: number, one: (mode: StartMode) => Promise<number>): Promise<Record<StartMode, number[]>> => {
    const out: Record<StartMode, number[]> = { compiled: [], source: [] };
    await one('compiled'); // warm the file cache, not counted
    for (let i = 0; i < n; i++) {
      for (const mode of i % 2 === 0 ? (['compiled', 'source'] as const) : (['source', 'compiled'] as const)) {
        if (mode === 'compiled') await fresh();
        out[mode].push(await one(mode));
      }
    }
    return out;
  };
  const goals = [
    { name: '`gameday --help`', goal: 200, n: runs, one: (m: StartMode) => commandWall(['--help'], m) },
    { name: `\`gameday validate ${scenario}\``, goal: 400, n: runs, one: (m: StartMode) => commandWall(['validate', scenario], m) },
    { name: `\`gameday run ${scenario}\`: command → first request (embedded default)`, goal: 3000, n: firstRuns, one: (m: StartMode) => commandToFirstRequestSteps(scenario, m).then((r) => (m === 'compiled' && steps.push(r.atMs), r.totalMs)) },
  ];
  // The compiled runs' milestones (the first, uncounted warm-up run included), for the breakdown by step.
  const steps: Array<Partial<Record<(typeof START_STEPS)[number], number>>> = [];
  for (const g of goals) {
    const t = await measure(g.n, g.one);
    const median = spread(t.compiled).median;
    process.stdout.write(`  (l) ${g.name}: compiled ${range(t.compiled, ' ms')}, from the sources ${range(t.source, ' ms')}\n`);
    rows.push({
      name: `(l) start-up, ${g.name}, compiled CLI, wall time over ${g.n} runs A/B alternated with the sources through tsx`,
      value: `${range(t.compiled, ' ms')}`,
      reference: `goal ${g.goal} ms; from the sources ${range(t.source, ' ms')}`,
      ratio: median / g.goal,
      goal: `≤ 1.0 (median ≤ ${g.goal} ms)`,
      met: median <= g.goal,
    });
  }
  // Median ms from the command to each milestone, and the step before it.
  let previous = 0;
  const parts = START_STEPS.flatMap((step) => {
    const at = steps.flatMap((s) => (s[step] === undefined ? [] : [s[step] as number]));
    if (at.length === 0) return [];
    const m = spread(at).median;
    const line = `${step} at ${Math.round(m)} ms (+${Math.round(m - previous)})`;
    previous = m;
    return [line];
  });
  process.stdout.write(`  (l) command → first request by step, compiled, medians of ${steps.length} runs: ${parts.join(', ')}\n`);
  // The same without the server-side view (no Prometheus binary): the harness's own start-up and the platform's.
  const bare: number[] = [];
  for (let i = 0; i < firstRuns; i++) (await fresh(), bare.push(await commandToFirstRequest(scenario, 'compiled', { PROMETHEUS_BIN: '/nonexistent/prometheus' })));
  rows.push({
    name: `(l) start-up, command → first request without Prometheus (PROMETHEUS_BIN missing), compiled CLI, ${firstRuns} runs`,
    value: range(bare, ' ms'),
    reference: 'goal 3000 ms (with Prometheus above)',
    ratio: spread(bare).median / 3000,
    goal: 'none: for reference',
    met: null,
  });
  if (rebuilt > 0) process.stdout.write(`  (l) sources changed during the measurement: rebuilt ${rebuilt} time(s)\n`);
}

async function serviceHandoff(): Promise<void> {
  const { rounds: r, paired, churn } = await serviceVsDirect(CLIENTS, SECONDS, ROUNDS, (line) => process.stdout.write(`${line}\n`));
  const ratios = r.map((x) => x.service / x.direct);
  const proxied = r.map((x) => x.proxy / x.direct);
  rows.push({
    name: `(m) Task API GET /tasks/:id via the Service (connections handed over) vs straight to the replicas, closed, ${CLIENTS} conns, ${ROUNDS} rounds alternated`,
    value: `${range(r.map((x) => x.service), ' req/s')}; ratio per round ${range(ratios)}`,
    reference: `direct ${range(r.map((x) => x.direct), ' req/s')}; via the proxying Service process ${range(r.map((x) => x.proxy), ' req/s')}, ratio ${range(proxied)}`,
    ratio: spread(ratios).median,
    goal: '≥ 0.95 (median ratio)',
    met: spread(ratios).median >= 0.95,
  });
  const cpu = (k: keyof (typeof r)[number]['cpuPerRequest']): number[] => r.map((x) => x.cpuPerRequest[k]);
  rows.push({
    name: '(m) CPU per request, replicas + Service process + client, same rounds: via the Service (handoff) vs straight to the replicas',
    value: `handoff ${range(cpu('service'), ' µs')}; ratio per round ${range(r.map((x) => x.cpuPerRequest.service / x.cpuPerRequest.direct))}`,
    reference: `direct ${range(cpu('direct'), ' µs')}; via the proxying Service process ${range(cpu('proxy'), ' µs')}, ratio ${range(r.map((x) => x.cpuPerRequest.proxy / x.cpuPerRequest.direct))}`,
    ratio: spread(r.map((x) => x.cpuPerRequest.service / x.cpuPerRequest.direct)).median,
    goal: 'none: for reference (≈ 1 when the Service is out of the data path)',
    met: null,
  });
  rows.push({
    name: `(m) the same, paired: via the Service and straight to the replicas at the same instants (as many connections each side and per replica), requests via / direct, ${ROUNDS} rounds`,
    value: `via the Service ${range(paired.map((x) => x.service))}`,
    reference: `via the proxying Service process ${range(paired.map((x) => x.proxy))}`,
    ratio: spread(paired.map((x) => x.service)).median,
    goal: 'none: for reference (immune to the machine\'s drift; ≈ 1 when a handed-over connection costs what a direct one does)',
    met: null,
  });
  rows.push({
    name: '(m) what a new connection costs the harness through the Service: CPU per connection (one request each, from another process), its idle CPU subtracted',
    value: `handoff: ${fmt(churn.handoff.harnessUsPerConn)} µs in the harness (${fmt(churn.handoff.connsPerSec)} conns/s)`,
    reference: `proxying Service process: ${fmt(churn.proxy.harnessUsPerConn)} µs in the harness + ${fmt(churn.proxy.serviceProcessUsPerConn ?? Number.NaN)} µs in the Service process (${fmt(churn.proxy.connsPerSec)} conns/s)`,
    ratio: Number.NaN,
    goal: 'none: for reference',
    met: null,
  });
}

const only = process.env['BENCH_ONLY'];
if (!only || only.includes('c')) await coldStart();
if (!only || only.includes('a')) await serviceVsPgbench();
if (!only || only.includes('b')) await harnessVsAutocannon();
if (!only || only.includes('d')) await gateAa();
if (!only || only.includes('e')) await gateCatch();
if (!only || only.includes('f')) await proxyCost();
if (!only || only.includes('g')) await proxyLoop();
if (!only || only.includes('h')) await shippedScenarios();
if (!only || only.includes('i')) await rampRate();
if (!only || only.includes('j')) await templatedVsAutocannon();
if (!only || /[knop]/.test(only)) await openModel(only ?? 'knop');
if (!only || only.includes('l')) await startup();
if (!only || only.includes('m')) await serviceHandoff();

process.stdout.write(`\ngameday bench (${SECONDS}s per measurement, ${new Date().toISOString()})\n`);
for (const r of rows) {
  process.stdout.write(`${r.met === null ? 'INFO' : r.met ? 'MET ' : 'MISS'}  ${r.name}\n      ${r.value} vs ${r.reference}  →  ratio ${Number.isNaN(r.ratio) ? 'n/a' : r.ratio.toFixed(3)} (goal ${r.goal})\n`);
}
process.stdout.write(`${JSON.stringify({ bench: rows })}\n`);
