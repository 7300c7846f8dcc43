import { describe, expect, it } from 'vitest';
import { compareResults, type LoadedResult } from '../../harness/report/gate/compare-results.js';
import { renderComparisonMarkdown } from '../../harness/report/compare-markdown.js';
import type { ResultDocument } from '../../harness/report/result.js';
import type { MetricComparison } from '../../harness/report/gate/types.js';
import type { ResourceRecovery } from '../../harness/timeline/resource-recovery.js';
import type { SparseWindow, WindowSample } from '../../harness/report/gate/bootstrap.js';
import { compareLatency, latencySides } from '../../harness/report/gate/latency.js';
import { syntheticResult, type SyntheticRun } from './fixture.js';

const loaded = (name: string, opts: SyntheticRun): LoadedResult => ({ file: `${name}/result.json`, doc: syntheticResult(opts) });
/** Single-valued metrics do not depend on the bootstrap: fewer resamples keep these tests fast. */
const quick = (a: LoadedResult[], b: LoadedResult[]): ReturnType<typeof compareResults> => compareResults(a, b, { resamples: 100 });
const metric = (c: ReturnType<typeof compareResults>, m: string) => c.metrics.find((x) => x.metric === m);

describe('the regression gate on latency (cluster bootstrap over per-second windows)', () => {
  it('passes an A/A comparison: same service, different randomness', () => {
    for (const seed of [2, 3, 4]) {
      const c = compareResults([loaded('a', { seed: 1 })], [loaded('b', { seed })]);
      expect(c.regressed, renderComparisonMarkdown(c)).toBe(false);
    }
  });

  it('catches +30 % latency, with the interval in the reason and the diff table', () => {
    // A service at 12–28 ms (the synthetic one ×4), then 30 % slower: well past the 3 ms floor too.
    const c = compareResults([loaded('a', { seed: 1, latencyScale: 4 })], [loaded('b', { seed: 2, latencyScale: 5.2 })]);
    expect(c.regressed).toBe(true);
    const p95 = metric(c, 'latency.p95');
    expect(p95?.status).toBe('regressed');
    expect(p95?.ratio).toBeGreaterThan(1.2);
    expect(p95?.interval?.lowerRatio).toBeGreaterThan(1.2);
    expect(p95?.interval?.windows).toEqual({ baseline: 55, current: 55 });
    const md = renderComparisonMarkdown(c);
    expect(md).toContain('### Regression gate: ❌ REGRESSED');
    expect(md).toMatch(/\| latency p95 \| [\d.]+ms \| [\d.]+ms \| \+[\d.]+ms \(\+\d+\.\d%\) \| \+\d+\.\d% … \+\d+\.\d% \(bootstrap, 55\+55 s\) \| \+20% or \+3\.0ms \| ❌ regressed \|/);
  });

  it('is deterministic: the same inputs give the same interval', () => {
    const run = (): unknown => metric(compareResults([loaded('a', { seed: 1 })], [loaded('b', { seed: 5, latencyScale: 1.1 })]), 'latency.p95')?.interval;
    expect(run()).toEqual(run());
  });

  it('takes its tolerances from the current result (the scenario\'s spec.regression)', () => {
    const cur = loaded('b', { seed: 2, latencyScale: 5.2 });
    const lax = { ...cur.doc.regression, tolerances: { ...cur.doc.regression.tolerances, 'latency.p95': { relative: 0.5, absolute: 1 } } };
    const c = compareResults([loaded('a', { seed: 1, latencyScale: 4 })], [{ ...cur, doc: { ...cur.doc, regression: lax } }]);
    expect(metric(c, 'latency.p95')?.status).toBe('ok');
  });

  it('calls a change beyond the tolerance "within noise" when the seconds disagree too much to be sure', () => {
    // 20 seconds, one of them slow: whether a resample's p95 is slow depends on how often that second is drawn.
    const sample = (fastUs: number): WindowSample => {
      const values = Float64Array.from([fastUs, 10 * fastUs]);
      const second = (slow: boolean): SparseWindow => ({ index: Uint32Array.from([slow ? 1 : 0]), counts: Float64Array.from([100]) });
      return { values, windows: Array.from({ length: 20 }, (_, i) => second(i === 0)), runs: [Array.from({ length: 20 }, (_, i) => i)] };
    };
    const settings = { confidence: 0.95, resamples: 2000, seed: 1 };
    const p95 = compareLatency('latency.p95', latencySides(sample(5000), sample(5500), settings), { relative: 0.05, absolute: 0 }, settings);
    expect(p95.ratio).toBeCloseTo(1.1, 5);
    expect(p95.interval?.lowerRatio).toBeLessThan(1.05);
    expect(p95.status).toBe('within-noise');
    // The same +10 % where every second agrees is a regression.
    const steady = (us: number): WindowSample => ({ values: Float64Array.from([us]), windows: Array.from({ length: 20 }, () => ({ index: Uint32Array.from([0]), counts: Float64Array.from([100]) })), runs: [Array.from({ length: 20 }, (_, i) => i)] });
    expect(compareLatency('latency.p95', latencySides(steady(5000), steady(5500), settings), { relative: 0.05, absolute: 0 }, settings).status).toBe('regressed');
  });
});

describe('the regression gate with repetitions (run-to-run noise)', () => {
  /** Runs whose seconds agree within a run (all at one latency) but whose levels differ run to run. */
  const runs = (levelsUs: number[]): WindowSample => {
    const values = Float64Array.from([...new Set(levelsUs)].sort((a, b) => a - b));
    const windows: SparseWindow[] = [];
    const byRun = levelsUs.map((us) => Array.from({ length: 10 }, () => {
      windows.push({ index: Uint32Array.from([values.indexOf(us)]), counts: Float64Array.from([100]) });
      return windows.length - 1;
    }));
    return { values, windows, runs: byRun };
  };
  const settings = { confidence: 0.95, resamples: 500, seed: 1 };
  const tolerance = { relative: 0.2, absolute: 0 };

  it('a +30 % level that one run per side would flag is within the noise the repetitions show', () => {
    const single = compareLatency('latency.p95', latencySides(runs([5000]), runs([6500]), settings), tolerance, settings);
    expect(single.status).toBe('regressed');
    const repeated = compareLatency('latency.p95', latencySides(runs([5000, 7000, 6000]), runs([6500, 9100, 7800]), settings), tolerance, settings);
    expect(repeated.ratio).toBeCloseTo(1.3, 5);
    expect(repeated.interval?.runNoise?.df).toBe(4);
    expect(repeated.interval?.lowerRatio).toBeLessThan(1.2);
    expect(repeated.status).toBe('within-noise');
  });

  it('a single current run against a repeated baseline is allowed the run-to-run spread the baseline showed', () => {
    const noisy = compareLatency('latency.p95', latencySides(runs([5000, 7000, 6000]), runs([9100]), settings), tolerance, settings);
    expect(noisy.ratio).toBeCloseTo(1.3, 5); // the pooled p95 of the baseline is its slowest run's
    expect(noisy.interval?.runNoise?.df).toBe(2);
    expect(noisy.status).toBe('within-noise');
    const steady = compareLatency('latency.p95', latencySides(runs([5000, 5050, 4950]), runs([6500]), settings), tolerance, settings);
    expect(steady.status).toBe('regressed');
  });

  it('repetitions that agree with each other still let a +30 % regression through as regressed', () => {
    const c = compareLatency('latency.p95', latencySides(runs([5000, 5050, 4950]), runs([6500, 6550, 6450]), settings), tolerance, settings);
    expect(c.interval?.runNoise?.sdLog).toBeLessThan(0.02);
    expect(c.status).toBe('regressed');
  });
});

describe('the regression gate on single-valued metrics (medians over repetitions)', () => {
  const withRto = (r: ResultDocument, platformMs: number | null, clientMs: number | null): ResultDocument => ({ ...r, rto: { ...r.rto, platformMs, clientMs } });

  it('a fault that no longer recovers is a regression; a slower one only beyond max(50 %, 1 s)', () => {
    const base = syntheticResult();
    const c1 = quick([{ file: 'a', doc: withRto(base, 600, 300) }], [{ file: 'b', doc: withRto(base, null, 300) }]);
    expect(metric(c1, 'rto.platform')?.status).toBe('regressed');
    const c2 = quick([{ file: 'a', doc: withRto(base, 600, 300) }], [{ file: 'b', doc: withRto(base, 1500, 1200) }]);
    expect(metric(c2, 'rto.platform')?.status).toBe('ok');
    const c3 = quick([{ file: 'a', doc: withRto(base, 600, 300) }], [{ file: 'b', doc: withRto(base, 1700, 300) }]);
    expect(metric(c3, 'rto.platform')?.status).toBe('regressed');
  });

  it('uses the median of repetitions, so one slow repetition is not a regression', () => {
    const base = syntheticResult();
    const reps = [600, 4000, 650].map((ms, i) => ({ file: `r${i}`, doc: withRto(base, ms, 0) }));
    const c = quick([{ file: 'a', doc: withRto(base, 600, 0) }], reps);
    expect(metric(c, 'rto.platform')?.current).toBe(650);
    expect(metric(c, 'rto.platform')?.status).toBe('ok');
    expect(c.current.runs).toBe(3);
  });

  it('failures: more than max(100 %, 25) more is a regression', () => {
    const c = quick([loaded('a', { outageMs: 100 })], [loaded('b', { outageMs: 1000 })]);
    const f = metric(c, 'requests.failures');
    expect(f?.baseline).toBe(20);
    expect(f?.current).toBe(200);
    expect(f?.status).toBe('regressed');
  });

  it('resource recovery: the slowest over resources, a leak as the time observed after the fault, n/a without data', () => {
    const base = syntheticResult();
    // As the resource stage writes them: per fault, per resource, the sum over replicas and each replica.
    const rec = (resource: string, replica: string, recoveryMs: number | null, status: ResourceRecovery['status']): ResourceRecovery => ({ resource, replica, baseline: 10, toleranceAbs: 2, peak: 20, recoveredAtMs: recoveryMs, recoveryMs, leaked: status === 'leaked', status });
    const recoveries = (ms: number | null): ResourceRecovery[] => [
      rec('db_connections', 'total', 1000, 'recovered'),
      rec('rss_bytes', 'total', ms, ms === null ? 'leaked' : 'recovered'),
      rec('rss_bytes', 'task-api-a', null, 'gone'),
      rec('open_fds', 'total', null, 'no-baseline'),
      { ...rec('db_pool_idle', 'total', null, 'leaked'), peak: 4 }, // stayed below its baseline: holds nothing
    ];
    const res = (ms: number | null): LoadedResult => ({ file: 'r', doc: { ...base, resources: { series: [], recovery: [{ fault: 'kill', recoveries: recoveries(ms) }] } } });
    const status = (a: LoadedResult, b: LoadedResult): MetricComparison | undefined => metric(quick([a], [b]), 'resources.recovery');
    expect(status({ file: 'a', doc: base }, { file: 'b', doc: base })?.status).toBe('n/a');
    expect(status(res(2000), res(9000))?.status).toBe('regressed');
    // A leak counts as everything observed after the fault (kill ended at 25 s, run ended at 60 s).
    expect(status(res(2000), res(null))).toMatchObject({ current: 35_000, status: 'regressed' });
    expect(status(res(2000), res(4000))?.status).toBe('ok');
  });
});
