import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { createK6Driver } from '../../harness/load/k6-driver.js';
import type { LoadPlan, LoadSummary, ResponseSink, TransportErrorKind } from '../../harness/load/types.js';
import { K6SampleFeed, parseK6Time, transportKind } from '../../harness/k6/samples.js';
import { findK6 } from '../../harness/k6/binary.js';
import { summaryThresholds } from '../../harness/k6/summary.js';
import { TimelineRecorder, clientRtoMs, detectDisruptions } from '../../harness/timeline/index.js';
import type { TimelineData } from '../../harness/timeline/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const FAKE_K6 = join(here, 'fake-k6.mjs');
const SAMPLES = join(here, '../../../shared/k6-samples');
const SLO = { latencyP95Ms: 500 };

/** The fixture's two requests, as a scenario's workload would name them. */
function plan(): LoadPlan {
  const req = (name: string, method: string) => ({ name, weight: 1, method, path: '/', headers: {}, capture: {} });
  return { model: 'open', ratePerSec: 200, connections: 1, maxInFlight: 50, timeoutMs: 5000, seed: 1, workload: { pools: [], requests: [req('get-item', 'GET'), req('create-item', 'POST')] } };
}

interface Replay {
  summary?: LoadSummary;
  error?: Error;
  data: TimelineData;
  /** Run-clock ms of an epoch ms of the recording. */
  runMs(recordedEpochMs: number): number;
  pid: number;
}

// The driver's temp dirs go under this file's own TMPDIR, so that the leftover check sees only them.
// Made before the first test (not at import: a file whose tests are all filtered out runs no hook).
let tmp = '';
const savedTmpdir = process.env['TMPDIR'];
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gameday-k6-test-'));
  process.env['TMPDIR'] = tmp;
});
afterAll(() => {
  if (savedTmpdir === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmpdir;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the stand-in replaying `fixture` through the k6 driver into a recorder. */
async function replay(fixture: string, env: Record<string, string>, stopAfterMs?: number): Promise<Replay> {
  const shiftFile = join(tmp, `${fixture}.shift`);
  const pidFile = join(tmp, `${fixture}.pid`);
  rmSync(pidFile, { force: true });
  for (const [k, v] of Object.entries({ FAKE_K6_FIXTURE: join(SAMPLES, fixture), FAKE_K6_SHIFT_FILE: shiftFile, FAKE_K6_PID_FILE: pidFile, ...env })) process.env[k] = v;
  const clock = new SystemClock();
  // A warm-up covers the stand-in's start-up (slower on a loaded machine), as spec.warmup covers k6's in a run.
  const recorder = new TimelineRecorder({ phases: [{ phase: 'warmup', startMs: 0, endMs: 3000 }, { phase: 'baseline', startMs: 3000, endMs: 60_000 }], sloLatencyMs: SLO.latencyP95Ms, maxLatencyMs: 10_000, requests: [{ name: 'get-item' }, { name: 'create-item' }] });
  const ac = new AbortController();
  const run = createK6Driver(plan(), { bin: FAKE_K6, script: join(SAMPLES, 'constant.js'), name: 'fixture', durationMs: 20_000 }, clock).start({ url: 'http://127.0.0.1:1', pools: new Map() }, recorder, ac.signal);
  // Stopped a while after the stand-in started (its start-up varies with the machine's load).
  if (stopAfterMs !== undefined) {
    for (let i = 0; i < 300 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    setTimeout(() => run.stop(), stopAfterMs);
  }
  const out: Partial<Replay> = {};
  try {
    out.summary = await run.done;
  } catch (err) {
    out.error = err as Error;
  } finally {
    for (const k of ['FAKE_K6_FIXTURE', 'FAKE_K6_SHIFT_FILE', 'FAKE_K6_PID_FILE', ...Object.keys(env)]) delete process.env[k];
  }
  const shift = Number(readFileSync(shiftFile, 'utf8'));
  const zero = clock.wallMs(0);
  return { ...out, data: recorder.snapshot(), runMs: (epoch) => epoch + shift - zero, pid: Number(readFileSync(pidFile, 'utf8')) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function leftoverDirs(): string[] {
  return readdirSync(tmp).filter((d) => d.startsWith('gameday-k6-'));
}

describe('k6 driver on the recorded constant run (stand-in, 10× pace)', () => {
  let r: Replay;
  const truth = JSON.parse(readFileSync(join(SAMPLES, 'constant.truth.json'), 'utf8'));
  beforeAll(async () => {
    r = await replay('constant', { FAKE_K6_SPEED: '10' });
  }, 30_000);

  it('keeps every request, by name, with k6 exit code 99 and its thresholds apart from the verdict', () => {
    expect(r.error).toBeUndefined();
    expect(r.summary?.completed).toBe(4001);
    expect(r.summary?.dropped).toBe(0);
    expect(r.summary?.k6).toMatchObject({ exitCode: 99, stoppedByGameday: false, badLines: 0, unnamed: {} });
    expect(r.summary?.k6?.thresholds).toEqual({ http_req_failed: { 'rate==0': true }, 'http_req_duration{name:get-item}': { 'p(95)<500': false } });
    const sum = (f: (i: number) => number): number => f(0) + f(1);
    expect(sum((i) => r.data.phases[i]!.count)).toBe(4001);
    expect(sum((i) => r.data.phases[i]!.status5xx)).toBe(500);
    const [get, create] = r.data.requests;
    expect(sum((i) => get!.phases[i]!.count)).toBe(3201);
    expect(sum((i) => get!.phases[i]!.status5xx)).toBe(400);
    expect(sum((i) => create!.phases[i]!.count)).toBe(800);
    expect(sum((i) => create!.phases[i]!.status5xx)).toBe(100);
  });

  it('finds the outage within 100 ms of its recorded truth window', () => {
    const w = truth.observed_503_window;
    const found = detectDisruptions(r.data, SLO);
    expect(found).toHaveLength(1);
    const d = found[0]!;
    // Times are send instants (k6's end time − http_req_duration); the target stamped arrival.
    expect(Math.abs(d.startMs - r.runMs(w.first_503_epoch_ms))).toBeLessThan(100);
    expect(Math.abs(d.endMs - r.runMs(w.last_503_epoch_ms))).toBeLessThan(100);
    expect(d.status5xx).toBe(500);
    // Client RTO from the outage's scheduled start: its scheduled length, 2500 ms.
    const rto = clientRtoMs(r.data, r.runMs(truth.scheduled_outage.start_epoch_ms), SLO, 3000);
    expect(rto.recovered).toBe(true);
    expect(Math.abs((rto.rtoMs ?? 0) - 2500)).toBeLessThan(100);
  });

  it('leaves no process and no temp dir', () => {
    expect(alive(r.pid)).toBe(false);
    expect(leftoverDirs()).toEqual([]);
  });
});

describe('k6 driver process handling', () => {
  it('counts dropped_iterations of the ramping run as dropped arrivals, exit 0', async () => {
    const r = await replay('ramping', { FAKE_K6_SPEED: '40' });
    expect(r.error).toBeUndefined();
    expect(r.summary).toMatchObject({ completed: 3194, dropped: 506, k6: { exitCode: 0, stoppedByGameday: false } });
    expect(r.data.phases[0]!.dropped + r.data.phases[1]!.dropped).toBe(506);
    expect(r.data.phases[0]!.status5xx + r.data.phases[1]!.status5xx).toBe(0);
  }, 20_000);

  it('stop() interrupts k6 (SIGINT → 105), keeps what it wrote, and leaves nothing running', async () => {
    const r = await replay('interrupted', {}, 1000);
    expect(r.error).toBeUndefined();
    expect(r.summary?.k6).toMatchObject({ exitCode: 105, stoppedByGameday: true });
    // About 1 s of a 200/s run: neither nothing nor the whole recording (989).
    expect(r.summary?.completed).toBeGreaterThan(100);
    expect(r.summary?.completed).toBeLessThan(900);
    expect(alive(r.pid)).toBe(false);
    expect(leftoverDirs()).toEqual([]);
  }, 20_000);

  it('a 105 that gameday did not ask for, or a crash, rejects with k6 output', async () => {
    const interrupted = await replay('interrupted', { FAKE_K6_SPEED: '20' });
    expect(interrupted.error?.message).toMatch(/k6 exited with code 105 \(expected 0, 99 or, once stopped, 105\)/);
    expect(interrupted.error?.message).toMatch(/received a 'interrupt' signal/);
    const crashed = await replay('constant', { FAKE_K6_CRASH_AFTER_MS: '300' });
    expect(crashed.error?.message).toMatch(/k6 was killed by SIGKILL/);
    expect(alive(crashed.pid)).toBe(false);
    expect(leftoverDirs()).toEqual([]);
  }, 20_000);

  it('a k6 that cannot be started rejects and starts nothing', async () => {
    const clock = new SystemClock();
    const run = createK6Driver(plan(), { bin: join(tmp, 'no-such-k6'), script: join(SAMPLES, 'constant.js'), name: 'fixture', durationMs: 20_000 }, clock).start({ url: 'http://127.0.0.1:1', pools: new Map() }, { response() {}, transportError() {} }, new AbortController().signal);
    await expect(run.done).rejects.toThrow(/could not start .*no-such-k6: spawn .* ENOENT/);
    expect(leftoverDirs()).toEqual([]);
  });
});

describe('k6 binary lookup', () => {
  it('K6_BIN, then PATH; a precise problem when there is none', () => {
    expect(findK6({ K6_BIN: FAKE_K6 })).toEqual({ bin: FAKE_K6 });
    const plain = join(tmp, 'k6');
    writeFileSync(plain, '');
    chmodSync(plain, 0o644);
    expect(findK6({ K6_BIN: plain })).toEqual({ problem: `K6_BIN: expected an executable k6 file, found "${plain}" (not executable)` });
    expect(findK6({ K6_BIN: join(tmp, 'nope') })).toMatchObject({ problem: expect.stringContaining('(no such file)') });
    expect(findK6({ PATH: tmp })).toMatchObject({ problem: expect.stringMatching(/^spec\.load\.driver: expected a k6 executable \(set K6_BIN or put k6 on PATH/) });
    chmodSync(plain, 0o755);
    expect(findK6({ PATH: `/nonexistent:${tmp}` })).toEqual({ bin: plain });
  });
});

describe('k6 output parsing', () => {
  it('reads nanosecond times, transport errors (status 0) and lines cut anywhere', () => {
    expect(parseK6Time('2026-11-30T07:21:20.889590356Z')).toBeCloseTo(Date.UTC(2026, 10, 30, 7, 21, 20) + 889.590356, 3);
    expect(parseK6Time('2026-11-30T08:21:20.5+01:00')).toBe(Date.UTC(2026, 10, 30, 7, 21, 20) + 500);
    expect(parseK6Time('yesterday')).toBeNaN();
    expect([1050, 1211, 1212, 1220, 1311, 1000].map((c) => transportKind(String(c)))).toEqual(['timeout', 'timeout', 'refused', 'reset', 'tls', 'other']);
    const seen: string[] = [];
    const sink: ResponseSink = {
      response: (op, end, lat, status) => seen.push(`r ${op} ${end.toFixed(3)} ${lat} ${status}`),
      transportError: (op, end, lat, kind: TransportErrorKind) => seen.push(`t ${op} ${end.toFixed(3)} ${lat} ${kind}`),
      dropped: (op, at) => seen.push(`d ${op} ${at.toFixed(3)}`),
    };
    const zero = Date.UTC(2026, 10, 30, 7, 21, 20);
    const feed = new K6SampleFeed(sink, new Map([['get-item', 0]]), zero);
    const text = [
      '{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-30T07:21:21.0005Z","value":2.5,"tags":{"name":"get-item","status":"503"}}}',
      '{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-30T07:21:22Z","value":1000,"tags":{"name":"other","status":"0","error_code":"1212"}}}',
      '{"metric":"dropped_iterations","type":"Point","data":{"time":"2026-11-30T07:21:23Z","value":1,"tags":{"scenario":"ramp"}}}',
      '{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-30T07:21:23Z","value":1,"tags":{}}}',
      'not json',
    ].join('\n');
    for (let i = 0; i < text.length; i += 7) feed.push(text.slice(i, i + 7));
    feed.end();
    expect(seen).toEqual(['r 0 1000.500 2.5 503', 't -1 2000.000 1000 refused', 'd -1 3000.000']);
    expect(feed.counts).toMatchObject({ completed: 2, transportErrors: 1, dropped: 1, badLines: 1, unnamed: { other: 1 } });
    expect(feed.firstBadLine).toBe('not json');
  });

  it('parses every recorded output: totals equal k6 summaries', () => {
    for (const name of ['constant', 'ramping', 'interrupted']) {
      const counts = { r: 0, t: 0, d: 0 };
      const feed = new K6SampleFeed({ response: () => counts.r++, transportError: () => counts.t++, dropped: () => counts.d++ }, new Map(), 0);
      feed.push(readFileSync(join(SAMPLES, `${name}.out.json`), 'utf8'));
      feed.end();
      const summary = JSON.parse(readFileSync(join(SAMPLES, `${name}.summary-export.json`), 'utf8'));
      expect(counts.r).toBe(summary.metrics.http_reqs.count);
      expect(counts.d).toBe(summary.metrics.dropped_iterations?.count ?? 0);
      expect(feed.counts.badLines).toBe(0);
      expect(Object.keys(summaryThresholds(readFileSync(join(SAMPLES, `${name}.summary-export.json`), 'utf8'))).sort()).toEqual(['http_req_duration{name:get-item}', 'http_req_failed']);
    }
  });
});

it('the stand-in exists and is executable', () => {
  expect(existsSync(FAKE_K6)).toBe(true);
});
