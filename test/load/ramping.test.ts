import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { SystemClock } from '../../harness/core/clock.js';
import { formatProblem } from '../../harness/core/errors.js';
import { RampCurve } from '../../harness/load/arrivals.js';
import { createLoadDriver } from '../../harness/load/index.js';
import type { LoadPlan } from '../../harness/load/types.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runGameDay, type ProgressTick } from '../../harness/run/gameday.js';
import { runCli } from '../helpers/cli.js';
import { RecordingSink, delay, taskIds } from './recording-sink.js';
import { startTaskServer, type TaskServer } from './task-server.js';
import { SwitchServer } from '../fixtures-switch/switch-server.js';

const tempDir = lazyTempDir('gd-ramping-');
let server: TaskServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const head = 'apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nmetadata: { name: ramp }\n';
const scenario = (spec: string): string => `${head}spec:\n  duration: 30s\n  warmup: 1s\n${spec}`;

function planOf(text: string): { load?: LoadPlan; problems: string[] } {
  const r = planFromText(text, { file: 'x.yaml', env: {} });
  return r.problems ? { problems: r.problems.map(formatProblem) } : { load: r.plan.load, problems: [] };
}

describe('ramping load in a scenario', () => {
  it('becomes a plan: rates per second, stages in ms, startRate 0, maxInFlight from the peak rate', () => {
    const { load, problems } = planOf(scenario('  load: { model: ramping, timeout: 2s, stages: [{ to: 800, over: 10s }, { to: 800, over: 15s }, { to: 0, over: 5s }] }\n'));
    expect(problems).toEqual([]);
    expect(load).toMatchObject({
      model: 'ramping',
      startRatePerSec: 0,
      stages: [{ toPerSec: 800, overMs: 10_000 }, { toPerSec: 800, overMs: 15_000 }, { toPerSec: 0, overMs: 5_000 }],
      maxInFlight: 1_600, // 800/s × 2 s, as the open model's rate × timeout
    });
    const small = planOf(scenario('  load: { model: ramping, connections: 50, startRate: 2.5, stages: [{ to: 10, over: 0s }, { to: 0.5, over: 20s }] }\n'));
    expect(small.load).toMatchObject({ startRatePerSec: 2.5, maxInFlight: 200 }); // connections × 4 when larger
  });

  it('refuses bad ramps with path, expectation and what was found', () => {
    const bad = (load: string, extra = ''): string[] => planOf(scenario(`  load: ${load}\n${extra}`)).problems;
    expect(bad('{ model: ramping }')).toEqual([
      'x.yaml: spec.load.stages: expected at least one stage { to: <rate>, over: <duration> } for model "ramping", found nothing',
    ]);
    expect(bad('{ model: ramping, stages: [] }')).toEqual(['x.yaml: spec.load.stages: expected ≥ 1 items, found an array of 0']);
    expect(bad('{ model: ramping, startRate: -1, stages: [{ to: -5, over: 25h }, { to: 10, over: 1x }, { over: 1s }] }')).toEqual([
      'x.yaml: spec.load.startRate: expected ≥ 0, found number -1',
      'x.yaml: spec.load.stages[0].to: expected ≥ 0, found number -5',
      'x.yaml: spec.load.stages[0].over: expected a duration such as "500ms", "30s" or "1m30s", from 0s to 24h, found "25h"',
      'x.yaml: spec.load.stages[1].over: expected a duration such as "500ms", "30s" or "1m30s", from 0s to 24h, found "1x"',
      'x.yaml: spec.load.stages[2].to: expected number, found nothing',
    ]);
    expect(bad('{ model: ramping, stages: [{ to: 100, over: 20s }, { to: 100, over: 11s }] }')).toEqual([
      'x.yaml: spec.load.stages: expected stages lasting at most spec.duration (30s) in all: the load ends with the last stage, found 31s in all',
    ]);
    expect(bad('{ model: ramping, stages: [{ to: 0, over: 20s }, { to: 0.05, over: 10s }] }')).toEqual([
      'x.yaml: spec.load.stages: expected stages that plan at least one arrival (a rate above 0 for long enough), found 0.25 expected arrivals',
    ]);
    expect(bad('{ model: ramping, rate: 5, stages: [{ to: 10, over: 1s }], extra: 1 }')).toEqual([
      'x.yaml: spec.load.extra: expected no such key (unknown keys are rejected), found key "extra"',
      'x.yaml: spec.load.rate: expected no rate for model "ramping" (use startRate and stages), found 5',
    ]);
    expect(bad('{ model: open, rate: 5, startRate: 1, stages: [{ to: 10, over: 1s }] }')).toEqual([
      'x.yaml: spec.load.startRate: expected no startRate for model "open" (use model: ramping), found 1',
      'x.yaml: spec.load.stages: expected no stages for model "open" (use model: ramping), found 1 stage(s)',
    ]);
    expect(bad(`{ model: ramping, stages: [${'{ to: 1, over: 1s }, '.repeat(101)}] }`)).toEqual(['x.yaml: spec.load.stages: expected ≤ 100 items, found an array of 101']);
  });

  it('holds its rates to the limits: above 10 000/s only with spec.limits.rate', () => {
    const ramp = '  load: { model: ramping, startRate: 12000, stages: [{ to: 20000, over: 10s }, { to: 5000, over: 10s }] }\n';
    expect(planOf(scenario(ramp)).problems).toEqual([
      'x.yaml: spec.load.startRate: expected at most 10000 arrivals/s unless spec.limits.rate allows more, found 12000',
      'x.yaml: spec.load.stages[0].to: expected at most 10000 arrivals/s unless spec.limits.rate allows more, found 20000',
    ]);
    expect(planOf(scenario(`${ramp}  limits: { rate: 15000 }\n`)).problems).toEqual([
      'x.yaml: spec.load.stages[0].to: expected at most spec.limits.rate (15000), found 20000',
    ]);
    expect(planOf(scenario(`${ramp}  limits: { rate: 20000 }\n`)).problems).toEqual([]);
    expect(planOf(scenario('  load: { model: ramping, stages: [{ to: 2000000, over: 10s }] }\n')).problems).toEqual([
      'x.yaml: spec.load.stages[0].to: expected ≤ 1000000, found number 2000000',
    ]);
  });

  it('gameday validate: exit 2 with the problem, nothing started', async () => {
    const file = join(tempDir(), 'bad-ramp.yaml');
    writeFileSync(file, scenario('  target: { url: "http://127.0.0.1:9" }\n  load: { model: ramping, stages: [{ to: 100, over: 40s }] }\n'));
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('spec.load.stages: expected stages lasting at most spec.duration (30s) in all: the load ends with the last stage, found 40s in all');
  }, 30_000);
});

describe('ramping load against a loopback service', () => {
  it('the achieved rate follows the stages within 2 % per second, and the run ends with the last stage', async () => {
    // up 200 → 600/s, hold, down to 200/s: 9 s, 1 200 + 1 800 + 1 200 arrivals.
    const { load } = planOf(scenario('  load: { model: ramping, connections: 64, timeout: 2s, mix: { get: 1 }, startRate: 200, stages: [{ to: 600, over: 3s }, { to: 600, over: 3s }, { to: 200, over: 3s }] }\n'));
    if (load?.model !== 'ramping') throw new Error('expected a ramping plan');
    const curve = new RampCurve(load.startRatePerSec, load.stages);
    const s = await startTaskServer({});
    server = s;
    const clock = new SystemClock();
    const perfAtClockZero = performance.now() - clock.now();
    const sink = new RecordingSink();
    const run = createLoadDriver(load, clock).start({ url: s.url, pools: taskIds([...s.tasks.keys()]) }, sink, new AbortController().signal);
    // Not stopped: the load ends by itself after the last stage (bounded here by a generous timeout).
    const summary = await Promise.race([run.done, delay(20_000).then(() => undefined)]);
    run.stop();
    expect(summary).toBeDefined();
    if (!summary) return;
    expect(summary.sent).toBe(4_200);
    expect(summary.dropped).toBe(0);
    expect(summary.completed).toBe(summary.sent);
    expect(s.stats.received).toBe(summary.sent);
    expect(sink.errors).toEqual([]);

    // The schedule's t0 on the run clock, from the first arrival's intended time (endMs − latency).
    const t0 = Math.min(...sink.responses.map((r) => r.endMs - r.latencyMs)) - new RampCurve(load.startRatePerSec, load.stages).timeOf(1);
    // Requests the server received in each second of the schedule, against the rate's integral.
    const received = new Array<number>(9).fill(0);
    for (const at of s.stats.receivedAt) {
      const second = Math.floor((at - perfAtClockZero - t0) / 1000);
      if (second >= 0 && second < 9) received[second] = (received[second] ?? 0) + 1;
    }
    const expected = received.map((_, i) => curve.expected((i + 1) * 1000) - curve.expected(i * 1000));
    expect(expected.map(Math.round)).toEqual([267, 400, 533, 600, 600, 600, 533, 400, 267]);
    // Requests meant for each second: the integral of the rate, to within one (fake-time tests prove the times exactly).
    const intended = sink.responses.map((r) => r.endMs - r.latencyMs - t0).sort((a, b) => a - b);
    const meant = expected.map((_, i) => intended.filter((t) => t >= i * 1000 && t < (i + 1) * 1000).length);
    meant.forEach((n, i) => expect(Math.abs(n - (expected[i] as number))).toBeLessThanOrEqual(1));
    // Received: a stall of the machine at a second's edge keeps the requests meant before it in
    // transit across it, and on a shared machine other work can stall this process for tens of ms.
    // The requests in transit at each edge are counted (requests go out in order: the n-th received
    // is the n-th meant); beyond 10 ms worth of them (normal: 1–8 ms), they are allowed on top of 2 %.
    const receivedMs = s.stats.receivedAt.map((at) => at - perfAtClockZero - t0);
    const rateAt = (ms: number): number => (curve.expected(ms + 0.5) - curve.expected(ms - 0.5)) * 1000;
    const excessInTransit = (edgeMs: number): number => {
      const inTransit = intended.filter((t, n) => t < edgeMs && (receivedMs[n] as number) >= edgeMs).length;
      return Math.max(0, inTransit - rateAt(edgeMs) * 0.01);
    };
    // Past the first second of each stage (0, 3 and 6).
    for (const i of [1, 2, 4, 5, 7, 8]) {
      const allowed = 0.02 * (expected[i] as number) + excessInTransit(i * 1000) + excessInTransit((i + 1) * 1000);
      const off = Math.abs((received[i] as number) - (expected[i] as number));
      expect(off, `second ${i}: ${received[i]} received, ${(expected[i] as number).toFixed(1)} expected, ${allowed.toFixed(1)} allowed`).toBeLessThanOrEqual(allowed);
    }
  }, 30_000);
});

describe('a ramping Game Day', () => {
  it('the abort guard skips seconds the ramp sends nothing in; the live line and timeline follow the ramp', async ({ onTestFinished: onTeardown }) => {
    const clock = new SystemClock();
    const s = new SwitchServer(clock);
    await s.start();
    onTeardown(() => s.close());
    // 0 → 200/s over 2 s, 3 s at rate 0, 2 s at 200/s; nothing in the last second (after the last stage).
    // The guard would trip on 2 s without outcomes if it judged the quiet seconds.
    const text = `${head}spec:
  duration: 8s
  warmup: 1s
  target: { url: "${s.url}" }
  load: { model: ramping, connections: 16, timeout: 1s, mix: { get: 1 }, stages: [{ to: 200, over: 2s }, { to: 0, over: 0s }, { to: 0, over: 3s }, { to: 200, over: 0s }, { to: 200, over: 2s }] }
  abort: { failureRatio: 0.5, for: 2s }
  checks: [{ id: NO-5XX, name: no 5xx, metric: requests.status5xx, target: "== 0" }]
`;
    const r = planFromText(text, { env: {} });
    expect(r.problems).toBeUndefined();
    const out = mkdtempSync(join(tempDir(), 'run-'));
    const ticks: ProgressTick[] = [];
    const outcome = await runGameDay(r.plan!, { outDir: out, signal: new AbortController().signal, clock, onTick: (t) => ticks.push(t) });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status, JSON.stringify([outcome.analysis?.events.find((e) => e.type === 'run.aborted'), outcome.analysis?.timeline.seconds.map((w) => [w.arrivals, w.failures])])).toBe('completed');
    expect(outcome.analysis?.events.some((e) => e.type === 'run.aborted')).toBe(false);
    // Per second, by intended send time: the integral of the rate over each second of the run. The
    // load's schedule starts a little after the run's t = 0 (the load is set up first): that offset
    // is read from second 0 (N = 50·t² in the first stage), and every other second must agree with it.
    const arrivals = outcome.analysis!.timeline.seconds.slice(0, 8).map((w) => w.arrivals);
    const curve = new RampCurve(0, (r.plan!.load as Extract<LoadPlan, { model: 'ramping' }>).stages);
    const offsetMs = 1000 - Math.sqrt((arrivals[0] as number) / 50) * 1000;
    expect(offsetMs).toBeGreaterThanOrEqual(0);
    expect(offsetMs).toBeLessThan(500);
    const want = arrivals.map((_, i) => curve.expected((i + 1) * 1000 - offsetMs) - curve.expected(i * 1000 - offsetMs));
    arrivals.forEach((n, i) => expect(Math.abs(n - (want[i] as number)), `second ${i}: ${n} arrivals, ${(want[i] as number).toFixed(1)} planned`).toBeLessThanOrEqual(2));
    expect(arrivals.slice(3, 5)).toEqual([0, 0]);
    // Those quiet seconds are idle (nothing planned): neither healthy nor unhealthy, so no disruption.
    expect(outcome.analysis!.timeline.idle).toEqual(expect.arrayContaining([3, 4]));
    expect(outcome.analysis!.disruptions).toEqual([]);
    expect(outcome.load?.sent).toBe(600);
    // The live line read each second's arrivals as they came.
    const live = new Map(ticks.filter((t) => t.last).map((t) => [t.last!.second, t.last!.requestsPerSec]));
    // (read once a second ends: a request or two meant just before its end may still be on the wire)
    for (const [second, perSec] of live) expect(Math.abs(perSec - (arrivals[second] as number))).toBeLessThanOrEqual(5);
    expect(live.get(5)).toBeGreaterThan(150);
  }, 60_000);
});
