import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../harness/core/random.js';
import { K6PrometheusFeed, bucketLatencyMs, histogramIncrement, type NativeHistogramSample, type RawK6Series } from '../../harness/k6/prometheus-feed.js';
import { k6TestRun } from '../../harness/k6/testrun.js';
import type { KubernetesPlatformPlan } from '../../harness/kube/plan.js';
import type { ResponseSink, TransportErrorKind } from '../../harness/load/types.js';
import { PrometheusQuery, withWindow } from '../../harness/observe/prometheus-query.js';
import { freePort } from '../../harness/platform/local/free-port.js';
import { findPrometheus, startPrometheus, type PrometheusServer } from '../../harness/platform/local/prometheus.js';
import { TimelineRecorder, createLatencyHistogram } from '../../harness/timeline/index.js';
import { K6RunnerStandIn, bucketIndex, bucketUpper, decodeWriteRequest, encodeWriteRequest, NativeHistogram } from './remote-write.js';

/** Everything a sink was told, in order. */
interface Told {
  kind: 'response' | 'transport' | 'dropped';
  op: number;
  endMs: number;
  latencyMs: number;
  status?: number;
  error?: TransportErrorKind;
}
function recordingSink(): ResponseSink & { told: Told[] } {
  const told: Told[] = [];
  return {
    told,
    response: (op, endMs, latencyMs, status) => void told.push({ kind: 'response', op, endMs, latencyMs, status }),
    transportError: (op, endMs, latencyMs, error) => void told.push({ kind: 'transport', op, endMs, latencyMs, error }),
    dropped: (op, atMs) => void told.push({ kind: 'dropped', op, endMs: atMs, latencyMs: 0 }),
  };
}

/** Several sinks told the same. */
function tee(...sinks: ResponseSink[]): ResponseSink {
  return {
    response: (...a) => sinks.forEach((s) => s.response(...a)),
    transportError: (...a) => sinks.forEach((s) => s.transportError(...a)),
    dropped: (...a) => sinks.forEach((s) => s.dropped?.(...a)),
  };
}

function h(count: number, buckets: Array<[string, string, number]>, rule = 0): NativeHistogramSample {
  return { count, sum: 0, buckets: buckets.map(([lower, upper, c]) => ({ rule, lower, upper, count: c })) };
}

describe('differencing native histograms and counters (no Prometheus)', () => {
  it('takes bucket increments; a count or a bucket that went down is a restart: the new value whole', () => {
    const a = h(3, [['0.01', '0.02', 2], ['0.02', '0.04', 1]]);
    const b = h(6, [['0.01', '0.02', 4], ['0.04', '0.08', 1], ['0.02', '0.04', 1]]);
    expect(histogramIncrement(undefined, a)).toEqual({ buckets: a.buckets, reset: false });
    expect(histogramIncrement(a, b)).toEqual({ buckets: [{ rule: 0, lower: '0.01', upper: '0.02', count: 2 }, { rule: 0, lower: '0.04', upper: '0.08', count: 1 }], reset: false });
    // Fewer in total, or a bucket gone, or one lower: a new process.
    expect(histogramIncrement(b, a).reset).toBe(true);
    expect(histogramIncrement(a, h(4, [['0.01', '0.02', 4]]))).toEqual({ buckets: [{ rule: 0, lower: '0.01', upper: '0.02', count: 4 }], reset: true });
  });

  it('gives a bucket its geometric middle (the zero bucket 0 ms)', () => {
    expect(bucketLatencyMs({ lower: '0.01', upper: '0.04' })).toBeCloseTo(20, 9);
    expect(bucketLatencyMs({ lower: '-2.938735877055719e-39', upper: '2.938735877055719e-39' })).toBe(0);
  });

  it('reports only what is new, spread inside (previous sample, this one] at most a push interval back, by name, status and error code', () => {
    const sink = recordingSink();
    const feed = new K6PrometheusFeed(sink, { prometheus: { url: 'http://127.0.0.1:9' }, testId: 't', opsByName: new Map([['get', 0]]), zeroWallMs: 100_000 });
    const base = { testid: 't', instance_id: '1', job_name: 'k6-t-1', scenario: 'default' };
    const ok: RawK6Series = {
      labels: { __name__: 'k6_http_req_duration_seconds', ...base, name: 'get', status: '200' },
      histograms: [
        [101_000, h(2, [['0.008', '0.0125', 2]])],
        [102_000, h(6, [['0.008', '0.0125', 4], ['0.25', '0.5', 2]])],
      ],
    };
    const refused: RawK6Series = { labels: { __name__: 'k6_http_req_duration_seconds', ...base, name: 'other', status: '0', error_code: '1212' }, histograms: [[102_000, h(1, [['-1e-39', '1e-39', 1]], 3)]] };
    const setup: RawK6Series = { labels: { __name__: 'k6_http_req_duration_seconds', ...base, name: 'get', status: '200', group: '::setup' }, histograms: [[100_500, h(5, [['0.008', '0.0125', 5]])]] };
    const drops: RawK6Series = { labels: { __name__: 'k6_dropped_iterations_total', ...base }, values: [[101_000, 4], [102_000, 4], [103_000, 1]] };
    const reqs: RawK6Series = { labels: { __name__: 'k6_http_reqs_total', ...base, name: 'get', status: '200' }, values: [[101_000, 2], [102_000, 6]] };
    expect(feed.ingest([ok, refused, setup, drops, reqs])).toEqual({ outcomes: 7, dropped: 5, series: 5 });
    const responses = sink.told.filter((t) => t.kind === 'response');
    // The first sample of a series covers one push interval (default 1 s) before it: (0, 1000] of the run.
    expect(responses.slice(0, 2).map((t) => t.endMs)).toEqual([250, 750]);
    expect(responses.slice(0, 2).every((t) => t.op === 0 && t.status === 200 && Math.abs(t.latencyMs - Math.sqrt(0.008 * 0.0125) * 1000) < 1e-9)).toBe(true);
    // The second: 2 more at 10 ms and 2 at 354 ms, each bucket spread over (1000, 2000].
    expect(responses.slice(2).map((t) => [t.endMs, Math.round(t.latencyMs)])).toEqual([[1250, 10], [1750, 10], [1250, 354], [1750, 354]]);
    expect(sink.told.find((t) => t.kind === 'transport')).toMatchObject({ op: -1, error: 'refused', latencyMs: 0 });
    // 4 drops (first sample) over (0, 1000], none at 2000, then a reset: 1 more over (2000, 3000].
    expect(sink.told.filter((t) => t.kind === 'dropped').map((t) => t.endMs)).toEqual([125, 375, 625, 875, 2500]);
    // Reported in the order of their samples' times, whatever the series.
    const ends = sink.told.map((t) => t.endMs);
    expect(ends.indexOf(2500)).toBe(ends.length - 1);
    expect(feed.totals()).toEqual({ runners: 1, outcomes: 7, transportErrors: 1, dropped: 5, unnamed: { other: 1 }, pushIntervalMs: 1000, setupRequests: 5, resets: 1, httpReqs: 6 });
    // The same samples again (an overlapping read) add nothing.
    expect(feed.ingest([ok, refused, setup, drops, reqs])).toEqual({ outcomes: 0, dropped: 0, series: 5 });
    // A series silent for 5 s: its increment is spread over the last push interval only.
    feed.ingest([{ ...ok, histograms: [[107_000, h(7, [['0.008', '0.0125', 5], ['0.25', '0.5', 2]])]] }]);
    expect(sink.told.at(-1)).toMatchObject({ endMs: 6500 });
  });

  it('refuses trends written as gauges: counters without a native histogram cannot give merged percentiles', () => {
    const feed = new K6PrometheusFeed(recordingSink(), { prometheus: { url: 'http://127.0.0.1:9' }, testId: 't', opsByName: new Map(), zeroWallMs: 0 });
    expect(() => feed.ingest([{ labels: { __name__: 'k6_http_reqs_total', testid: 't' }, values: [[1000, 3]] }])).toThrow(/no native histogram k6_http_req_duration_seconds.*K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true/);
  });

  it('the stand-in encodes native histograms as prompb spans and deltas, and reads them back', () => {
    const nh = new NativeHistogram();
    for (const v of [0.01, 0.0101, 0.011, 0.2, 0]) nh.observe(v);
    const req = decodeWriteRequest(encodeWriteRequest([{ labels: { __name__: 'x', b: '2', a: '1' }, histograms: [nh.toProto(5)] }])) as {
      timeseries: Array<{ labels: Array<{ name: string }>; histograms: Array<{ countInt: number; zeroCountInt: number; schema: number; positiveSpans: Array<{ offset: number; length: number }>; positiveDeltas: number[] }> }>;
    };
    const ts = req.timeseries[0]!;
    expect(ts.labels.map((l) => l.name)).toEqual(['__name__', 'a', 'b']);
    const hist = ts.histograms[0]!;
    expect(hist).toMatchObject({ countInt: 5, zeroCountInt: 1, schema: 3 });
    // 0.01 and 0.0101 share a bucket, 0.011 is the next, 0.2 far above.
    const i = bucketIndex(0.01);
    expect(bucketUpper(i - 1)).toBeLessThan(0.01);
    expect(bucketIndex(0.011)).toBe(i + 1);
    expect(hist.positiveSpans).toEqual([{ offset: i, length: 2 }, { offset: bucketIndex(0.2) - i - 2, length: 1 }]);
    expect(hist.positiveDeltas).toEqual([2, -1, 0]);
  });
});

// ---------------------------------------------------------------------------------------------

const binary = findPrometheus();
const why = 'skipped' in binary ? binary.skipped : '';

/** A lognormal latency (ms) with this median and spread. */
function lognormal(rand: () => number, medianMs: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return medianMs * Math.exp(sigma * z);
}

/** The value HdrHistogram's getValueAtPercentile picks, from the exact values: rank round(p·n), at least 1. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.floor((p / 100) * sorted.length + 0.5));
  return sorted[rank - 1]!;
}

/** The native bucket (schema 3) holding v ms: its bounds and geometric middle, ms. */
function bucketOf(vMs: number): { lower: number; upper: number; middle: number } {
  const i = bucketIndex(vMs / 1000);
  const lower = bucketUpper(i - 1) * 1000;
  const upper = bucketUpper(i) * 1000;
  return { lower, upper, middle: Math.sqrt(lower * upper) };
}

describe.skipIf(!!why)(`against a real Prometheus (remote-write receiver, native histograms)${why ? ` (skipped: ${why})` : ''}`, () => {
  let prom: PrometheusServer;
  // Every sample is in the past (no waiting): the run's zero 40 s ago, one test id per test.
  const zero = Date.now() - 40_000;

  beforeAll(async () => {
    prom = await startPrometheus((binary as { path: string }).path, { flags: ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms'] });
  }, 30_000);
  afterAll(async () => {
    await prom?.stop();
  });

  const runnersFor = (testid: string, n: number): K6RunnerStandIn[] =>
    Array.from({ length: n }, (_, i) => new K6RunnerStandIn(prom.url, { testid, instanceId: i + 1, testRun: `k6-${testid}` }));

  it('3 runners of different speeds: per-second and whole-run p50/p95/p99 are the union’s within one bucket, not the mean of per-runner figures', async () => {
    const testid = 'merge1';
    const runners = runnersFor(testid, 3);
    // Runner 1 fast, runner 2 medium, runner 3 slow, at different rates; two request names each.
    const profile = [
      { perSecond: 300, medianMs: 5, sigma: 0.4 },
      { perSecond: 100, medianMs: 30, sigma: 0.5 },
      { perSecond: 20, medianMs: 300, sigma: 0.5 },
    ];
    const rand = seededRandom(42);
    const SECONDS = 6;
    /** Truth by the second holding the response's end, (k, k+1] s after the zero. */
    const bySecond: number[][] = Array.from({ length: SECONDS }, () => []);
    const byRunner: number[][] = profile.map(() => []);
    const sink = recordingSink();
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 60_000 }], sloLatencyMs: 500, maxLatencyMs: 10_000 });
    const feed = new K6PrometheusFeed(tee(sink, recorder), { prometheus: { url: prom.url }, testId: testid, opsByName: new Map([['get', 0], ['list', 1]]), zeroWallMs: zero });
    for (let k = 0; k < SECONDS; k++) {
      for (const [r, p] of profile.entries()) {
        for (const name of ['get', 'list']) {
          // Each series' last request of a push ends on the second: k6 stamps a push with it, so the increment covers (k, k+1] exactly.
          const n = name === 'get' ? (p.perSecond * 3) / 4 : p.perSecond / 4;
          for (let j = 1; j <= n; j++) {
            const latencyMs = Math.round(lognormal(rand, p.medianMs, p.sigma) * 1000) / 1000;
            runners[r]!.request({ name, status: 200, endMs: zero + k * 1000 + (j * 1000) / n, latencyMs });
            bySecond[k]!.push(latencyMs);
            byRunner[r]!.push(latencyMs);
          }
        }
      }
      await Promise.all(runners.map((r) => r.flush()));
      // Polled as the run goes: half-way, then at the end; each poll reports only what is new.
      if (k === 2) expect((await feed.poll(zero + 3000)).outcomes).toBe(bySecond.slice(0, 3).flat().length);
    }
    await feed.poll(zero + SECONDS * 1000);
    expect(await feed.poll(zero + SECONDS * 1000)).toMatchObject({ outcomes: 0 });

    const total = bySecond.flat().length;
    expect(feed.totals()).toMatchObject({ runners: 3, outcomes: total, httpReqs: total, dropped: 0, pushIntervalMs: 1000, resets: 0, unnamed: {} });
    expect(recorder.totals().outcomes).toBe(total);

    // Per second (by the response's end): the feed's outcomes in an HDR histogram against the union of what was generated.
    const perSecond = Array.from({ length: SECONDS }, () => createLatencyHistogram(10_000, 'window'));
    for (const t of sink.told) perSecond[Math.floor(t.endMs / 1000)]!.recordValue(Math.round(t.latencyMs * 1000));
    for (let k = 0; k < SECONDS; k++) {
      const truth = [...bySecond[k]!].sort((a, b) => a - b);
      expect(perSecond[k]!.totalCount).toBe(truth.length);
      for (const p of [50, 95, 99]) {
        const exact = exactPercentile(truth, p);
        const b = bucketOf(exact);
        const got = perSecond[k]!.getValueAtPercentile(p) / 1000;
        // The feed gives the middle of the native bucket holding the union's percentile (HDR: ≤ 0.1% above) …
        expect(Math.abs(got - b.middle) / b.middle, `second ${k} p${p}: ${got} vs bucket middle ${b.middle}`).toBeLessThan(0.002);
        // … so it is the union's percentile within one bucket's width.
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(b.upper - b.lower);
      }
    }

    // The whole run through the timeline recorder's phase histogram: the union's p95 again, far from the mean of per-runner p95s.
    const phase = recorder.snapshot().phases[0]!;
    const all = bySecond.flat().sort((a, b) => a - b);
    for (const [p, got] of [[50, phase.p50Ms], [95, phase.p95Ms], [99, phase.p99Ms]] as const) {
      const b = bucketOf(exactPercentile(all, p));
      expect(Math.abs(got! - b.middle) / b.middle, `run p${p}`).toBeLessThan(0.002);
    }
    const meanOfRunnerP95s = byRunner.map((v) => exactPercentile([...v].sort((a, b) => a - b), 95)).reduce((a, b) => a + b, 0) / byRunner.length;
    // The slow runner sends under 5% of the requests: the global p95 is below all of them, while
    // its own p95 pulls the mean of the runners' p95s up several times.
    expect(meanOfRunnerP95s / phase.p95Ms!, `mean of runner p95s ${meanOfRunnerP95s} ms, global p95 ${phase.p95Ms} ms`).toBeGreaterThan(2);
    expect(phase.count).toBe(total);

    // The TestRun's PromQL, evaluated by Prometheus over the same series, agrees within a bucket or so.
    const k = { namespace: 'ns', access: { kind: 'url', url: 'http://target' } } as unknown as KubernetesPlatformPlan;
    const { queries } = k6TestRun({ name: 's' }, k, { runId: testid, parallelism: 3, prometheusUrl: prom.url, script: '' });
    const window = { startMs: 0, endMs: SECONDS * 1000 };
    const q = new PrometheusQuery(prom.url);
    const promP95 = await q.scalar(withWindow(queries.p95, window), zero + SECONDS * 1000);
    expect(Math.abs(promP95! * 1000 - phase.p95Ms!) / phase.p95Ms!).toBeLessThan(0.12);
    expect(await q.scalar(withWindow(queries.status5xx, window), zero + SECONDS * 1000)).toBeNull();
  });

  it('an outage every runner saw: its 5xx and transport errors land in its seconds; dropped iterations counted there', async () => {
    const testid = 'outage1';
    const runners = runnersFor(testid, 3);
    const rand = seededRandom(7);
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 60_000 }], sloLatencyMs: 500, maxLatencyMs: 10_000 });
    const sink = recordingSink();
    const feed = new K6PrometheusFeed(tee(sink, recorder), { prometheus: { url: prom.url }, testId: testid, opsByName: new Map([['get', 0]]), zeroWallMs: zero });
    let sent5xx = 0;
    let refused = 0;
    let drops = 0;
    for (let k = 0; k < 7; k++) {
      const outage = k === 3 || k === 4;
      for (const r of runners) {
        for (let j = 1; j <= 50; j++) {
          const endMs = zero + k * 1000 + j * 20;
          if (!outage) r.request({ name: 'get', status: 200, endMs, latencyMs: 5 + rand() * 10 });
          else if (k === 4 && j % 5 === 0) {
            // Connection refused (k6's 1212), answered at once.
            r.request({ name: 'get', status: 0, errorCode: '1212', endMs, latencyMs: 0.5 });
            refused++;
          } else {
            r.request({ name: 'get', status: 503, errorCode: '1503', endMs, latencyMs: 1 + rand() * 2 });
            sent5xx++;
          }
        }
        if (outage) {
          // k6 stamps the counter with its latest sample: here the push at the second's end.
          r.droppedIterations(4, zero + (k + 1) * 1000);
          drops += 4;
        }
      }
      await Promise.all(runners.map((r) => r.flush()));
    }
    await feed.poll(zero + 7000);
    expect(feed.totals()).toMatchObject({ runners: 3, outcomes: 7 * 150, transportErrors: refused, dropped: drops });
    const seconds = recorder.snapshot().seconds;
    const at = (i: number) => seconds.find((s) => s.index === i)!;
    // Every 5xx in seconds 3 and 4 (by its send: its end within (k, k+1] s less a few ms), none elsewhere.
    expect(at(3).status5xx + at(4).status5xx).toBe(sent5xx);
    expect(seconds.reduce((a, s) => a + s.status5xx, 0)).toBe(sent5xx);
    expect(at(4).transportErrors.refused).toBe(refused);
    expect(at(3).dropped + at(4).dropped).toBe(drops);
    expect(seconds.filter((s) => s.index !== 3 && s.index !== 4).every((s) => s.failures === 0)).toBe(true);
  });

  it('a runner restarted mid-run (a counter reset), unnamed and setup() requests: counts exact', async () => {
    const testid = 'reset1';
    const [r1, r2] = runnersFor(testid, 2) as [K6RunnerStandIn, K6RunnerStandIn];
    const feed = new K6PrometheusFeed(recordingSink(), { prometheus: { url: prom.url }, testId: testid, opsByName: new Map([['get', 0]]), zeroWallMs: zero });
    let sent = 0;
    r1.request({ name: 'get', status: 200, endMs: zero - 500, latencyMs: 3, group: '::setup' });
    for (let k = 0; k < 6; k++) {
      if (k === 3) r1.restart();
      for (const r of [r1, r2]) {
        for (let j = 1; j <= 20; j++) {
          // One in ten without a name tag (k6 then tags the URL).
          r.request({ name: j % 10 === 0 ? '' : 'get', status: 200, endMs: zero + k * 1000 + j * 50, latencyMs: 4 });
          sent++;
        }
      }
      await Promise.all([r1.flush(), r2.flush()]);
      if (k === 2 || k === 4) await feed.poll(zero + (k + 1) * 1000);
    }
    await feed.poll(zero + 6000);
    const t = feed.totals();
    expect(t).toMatchObject({ runners: 2, outcomes: sent, setupRequests: 1, httpReqs: sent + 1 });
    expect(t.resets).toBeGreaterThan(0);
    expect(Object.values(t.unnamed).reduce((a, b) => a + b, 0)).toBe(sent / 10);
    expect(Object.keys(t.unnamed)).toEqual(['http://target/item']);
  });

  it('says precisely when Prometheus is unreachable, and when it holds nothing for the test id', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = new K6PrometheusFeed(recordingSink(), { prometheus: { url: closed }, testId: 'x', opsByName: new Map(), zeroWallMs: zero });
    await expect(down.poll(zero + 1000)).rejects.toThrow(`Prometheus at ${closed} is unreachable`);
    const empty = new K6PrometheusFeed(recordingSink(), { prometheus: { url: prom.url }, testId: 'never-written', opsByName: new Map(), zeroWallMs: zero });
    expect(await empty.poll(zero + 6000)).toEqual({ outcomes: 0, dropped: 0, series: 0 });
    expect(empty.totals()).toMatchObject({ runners: 0, outcomes: 0, pushIntervalMs: null });
    expect(empty.missing()).toMatch(/holds no k6 series with testid="never-written": the runners have not remote-written to it.*--web.enable-remote-write-receiver/);
  });
});
