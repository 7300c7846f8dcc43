import type { PrometheusDriver } from 'prometheus-query';
import { describeQueryError, prometheusDriver, type PrometheusAccess } from '../observe/prometheus-query.js';
import type { ResponseSink } from '../load/types.js';
import { transportKind } from './samples.js';

/**
 * A distributed k6 run (the k6 operator's TestRun, harness/k6/testrun.ts) read back from the
 * Prometheus its runners remote-write to, as outcomes for the same sink as gameday's own drivers.
 *
 * Each runner sends, every push interval, the cumulative value of each of its series that got
 * samples since the last push, stamped with the time of its latest sample (k6's output does so):
 * `k6_http_req_duration_seconds` as a native histogram per label set (testid, instance_id,
 * job_name, name, status, error_code, url, method, scenario…), `k6_http_reqs_total` and
 * `k6_dropped_iterations_total` as counters. The feed reads the raw samples with range selectors,
 * differences consecutive samples of each series (a value that went down is a new or restarted
 * runner process: the new value is the increment) and reports each bucket's increment as that
 * many outcomes at the bucket's geometric middle (√(lower·upper); the zero bucket at 0 ms), their
 * ends spread evenly over the interval the increment covers: (previous sample, this sample], at
 * most one push interval long (what a push carries was sent after the push before it).
 *
 * So percentiles are exact to the width of a native bucket (k6's bucket factor 1.1 gives schema 3:
 * a bucket's bounds are 9.05% apart, its middle within ±4.4% of any value in it), and a figure's
 * time resolution is the push interval (the TestRun renders 1 s). Every runner's outcomes go into
 * the same per-second HDR histograms of the timeline, so a percentile is of all runners' requests
 * together — global by construction, never an average of per-runner percentiles.
 */

export interface K6PrometheusFeedOptions {
  /** The Prometheus the runners remote-write to (url, bearer token). */
  prometheus: PrometheusAccess;
  /** The k6 `testid` tag: the gameday run id. */
  testId: string;
  /** Workload request name (k6 `name` tag) → op index. */
  opsByName: ReadonlyMap<string, number>;
  /** Epoch ms of the run's zero (clock.wallMs(0)). */
  zeroWallMs: number;
  /**
   * The runners' push interval (K6_PROMETHEUS_RW_PUSH_INTERVAL; the TestRun renders 1 s), used to
   * spread a series' first increment until the interval is measured from the samples' spacing.
   */
  pushIntervalMs?: number;
}

export interface K6PrometheusFeedTotals {
  /** Distinct runners seen (the operator's `instance_id`). */
  runners: number;
  /** Outcomes given to the sink (responses + transport errors). */
  outcomes: number;
  transportErrors: number;
  /** dropped_iterations. */
  dropped: number;
  /** Outcomes whose `name` tag is not a workload request (in the totals only), by name. */
  unnamed: Record<string, number>;
  /** Median spacing of consecutive samples of a series, ms; null before any series has two. */
  pushIntervalMs: number | null;
  /** Requests of setup() and teardown() (group ::setup / ::teardown): not outcomes. */
  setupRequests: number;
  /** Series whose value went down (a runner process restarted): their new value was taken whole. */
  resets: number;
  /** k6_http_reqs_total's increments: equal to outcomes + setupRequests when every push arrived whole. */
  httpReqs: number;
}

/** What one poll added. */
export interface K6PollResult {
  outcomes: number;
  dropped: number;
  /** Series of this run Prometheus holds in the window read (0: nothing written yet, or nothing for this testid). */
  series: number;
}

/** One bucket of a native histogram sample as the query API gives it: [boundary rule, lower, upper, count]. */
export interface NativeBucket {
  /** 0: (lower, upper], 1: [lower, upper), 2: (lower, upper), 3: [lower, upper] (the zero bucket). */
  rule: number;
  lower: string;
  upper: string;
  count: number;
}

export interface NativeHistogramSample {
  count: number;
  sum: number;
  buckets: NativeBucket[];
}

/** A series' raw samples in a range, epoch ms, ascending: histograms or floats. */
export interface RawK6Series {
  labels: Record<string, string>;
  histograms?: Array<[number, NativeHistogramSample]>;
  values?: Array<[number, number]>;
}

export const DURATION_METRIC = 'k6_http_req_duration_seconds';
export const REQS_METRIC = 'k6_http_reqs_total';
export const DROPPED_METRIC = 'k6_dropped_iterations_total';
const DEFAULT_PUSH_INTERVAL_MS = 1000;
/** Each poll reads this far back before the previous one's end (at least 3 push intervals): a push that arrived late is still read. */
const LATE_MS = 30_000;
/** The first poll reads from this long before the zero (runners start before it). */
const BEFORE_ZERO_MS = 60_000;
/** Spacings kept for the push interval's median. */
const SPACINGS_KEPT = 512;

/** The latency (ms) an outcome of this bucket is given: the geometric middle; the zero bucket's 0. */
export function bucketLatencyMs(b: Pick<NativeBucket, 'lower' | 'upper'>): number {
  const lower = Number(b.lower);
  const upper = Number(b.upper);
  if (lower > 0 && upper > 0) return Math.sqrt(lower * upper) * 1000;
  if (lower <= 0 && upper <= 1e-9) return 0;
  return Math.max(0, ((lower + upper) / 2) * 1000);
}

/**
 * The increment of a cumulative histogram from `prev` to `cur`, bucket by bucket; a count or any
 * bucket that went down means the process behind the series restarted: `cur` is the increment.
 */
export function histogramIncrement(prev: NativeHistogramSample | undefined, cur: NativeHistogramSample): { buckets: NativeBucket[]; reset: boolean } {
  if (prev === undefined) return { buckets: cur.buckets.filter((b) => b.count > 0), reset: false };
  const before = new Map(prev.buckets.map((b) => [bucketKey(b), b.count]));
  let reset = cur.count < prev.count;
  const out: NativeBucket[] = [];
  for (const b of cur.buckets) {
    const d = b.count - (before.get(bucketKey(b)) ?? 0);
    before.delete(bucketKey(b));
    if (d < 0) reset = true;
    else if (d > 0) out.push({ ...b, count: d });
  }
  // A bucket that held counts and is gone went down to 0.
  for (const c of before.values()) if (c > 0) reset = true;
  if (reset) return { buckets: cur.buckets.filter((b) => b.count > 0), reset: true };
  return { buckets: out, reset: false };
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The start of the interval a sample's increment covers: its previous sample, at most one push interval back. */
function intervalStart(prevTs: number, ts: number, intervalMs: number): number {
  return Number.isFinite(prevTs) ? Math.max(prevTs, ts - intervalMs) : ts - intervalMs;
}

function bucketKey(b: NativeBucket): string {
  return `${b.rule}|${b.lower}|${b.upper}`;
}

/** n instants spread evenly inside (a, b]: (i + ½)/n of the way, never on an edge. */
function spread(a: number, b: number, n: number, i: number): number {
  return a + ((i + 0.5) * (b - a)) / n;
}

interface SeriesState {
  lastTs: number;
  lastHistogram?: NativeHistogramSample;
  lastValue?: number;
}

/** An increment to report, ordered by its sample's time across series before it reaches the sink. */
interface Pending {
  ts: number;
  emit: () => void;
}

// prometheus-query parses float samples only (a series with `histograms` has no `values`): the
// response interceptor hands each series' histogram samples over under this key of its metric.
const HISTOGRAMS = Symbol('histograms');

export class K6PrometheusFeed {
  private readonly driver: PrometheusDriver;
  private readonly url: string;
  private readonly series = new Map<string, SeriesState>();
  private readonly runnerIds = new Set<string>();
  private readonly spacings: number[] = [];
  private spacingsAt = 0;
  private readonly counts: Omit<K6PrometheusFeedTotals, 'runners' | 'pushIntervalMs'> = {
    outcomes: 0,
    transportErrors: 0,
    dropped: 0,
    unnamed: {},
    setupRequests: 0,
    resets: 0,
    httpReqs: 0,
  };
  /** End (epoch ms) of the last poll's window; NaN before the first. */
  private lastUntil = Number.NaN;

  constructor(
    private readonly sink: ResponseSink,
    private readonly opts: K6PrometheusFeedOptions,
  ) {
    const access = opts.prometheus;
    this.url = access.url.replace(/\/+$/, '');
    this.driver = prometheusDriver(access, { timeoutMs: 10_000, onResponse: keepHistograms });
  }

  /** Reads what Prometheus holds up to untilWallMs (epoch ms) and reports only what is new to the sink. */
  async poll(untilWallMs: number): Promise<K6PollResult> {
    const from = Number.isNaN(this.lastUntil) ? this.opts.zeroWallMs - BEFORE_ZERO_MS : this.lastUntil - Math.max(LATE_MS, 3 * this.intervalMs());
    const rangeMs = Math.max(1, Math.ceil(untilWallMs - from));
    const metrics = [DURATION_METRIC, REQS_METRIC, DROPPED_METRIC].join('|');
    const query = `{__name__=~"${metrics}",testid=${JSON.stringify(this.opts.testId)}}[${rangeMs}ms]`;
    let raw: RawK6Series[];
    try {
      const res = await this.driver.instantQuery(query, new Date(untilWallMs));
      raw = (res.result as Array<{ metric: { name: string; labels: Record<string | symbol, unknown> }; values: Array<{ time: Date; value: number }> }>).map((r) => {
        const hist = r.metric.labels[HISTOGRAMS] as Array<[number, NativeHistogramSample]> | undefined;
        const labels = { ...(r.metric.labels as Record<string, string>), __name__: r.metric.name };
        return hist ? { labels, histograms: hist } : { labels, values: r.values.map((v) => [v.time.getTime(), Number(v.value)] as [number, number]) };
      });
    } catch (err) {
      throw new Error(describeQueryError(err, this.url, this.opts.prometheus));
    }
    this.lastUntil = Math.max(untilWallMs, Number.isNaN(this.lastUntil) ? -Infinity : this.lastUntil);
    return this.ingest(raw);
  }

  /**
   * Reports the samples not seen before (newer than each series' last one) to the sink, in the
   * order of their samples' times across series. Public for tests of the arithmetic alone.
   */
  ingest(raw: readonly RawK6Series[]): K6PollResult {
    const before = { outcomes: this.counts.outcomes, dropped: this.counts.dropped };
    const pending: Pending[] = [];
    const interval = this.learnInterval(raw);
    let histogramSeries = 0;
    let reqsSeries = 0;
    for (const s of raw) {
      const name = s.labels.__name__;
      const runner = s.labels.instance_id ?? s.labels.job_name;
      if (runner !== undefined) this.runnerIds.add(runner);
      const key = seriesKey(s.labels);
      let state = this.series.get(key);
      if (!state) {
        state = { lastTs: -Infinity };
        this.series.set(key, state);
      }
      if (name === DURATION_METRIC && s.histograms) {
        histogramSeries++;
        for (const [ts, h] of s.histograms) {
          if (ts <= state.lastTs) continue;
          const inc = histogramIncrement(state.lastHistogram, h);
          if (inc.reset) this.counts.resets++;
          const a = intervalStart(state.lastTs, ts, interval);
          pending.push({ ts, emit: () => this.outcomes(s.labels, inc.buckets, a, ts) });
          state.lastTs = ts;
          state.lastHistogram = h;
        }
      } else if (s.values) {
        if (name === REQS_METRIC) reqsSeries++;
        for (const [ts, v] of s.values) {
          if (ts <= state.lastTs) continue;
          const prev = state.lastValue;
          const reset = prev !== undefined && v < prev;
          if (reset) this.counts.resets++;
          const inc = Math.round(prev === undefined || reset ? v : v - prev);
          if (name === DROPPED_METRIC && inc > 0) {
            const a = intervalStart(state.lastTs, ts, interval);
            pending.push({ ts, emit: () => this.drops(inc, a, ts) });
          } else if (name === REQS_METRIC) this.counts.httpReqs += inc;
          state.lastTs = ts;
          state.lastValue = v;
        }
      }
    }
    if (reqsSeries > 0 && histogramSeries === 0) {
      throw new Error(
        `Prometheus at ${this.url} holds k6's ${REQS_METRIC}{testid="${this.opts.testId}"} but no native histogram ${DURATION_METRIC}: ` +
          'the runners wrote trends as gauges (set K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true, as the rendered TestRun does); percentiles cannot be merged from them',
      );
    }
    pending.sort((x, y) => x.ts - y.ts);
    for (const p of pending) p.emit();
    return { outcomes: this.counts.outcomes - before.outcomes, dropped: this.counts.dropped - before.dropped, series: raw.length };
  }

  totals(): K6PrometheusFeedTotals {
    return { runners: this.runnerIds.size, pushIntervalMs: this.measuredIntervalMs(), ...this.counts, unnamed: { ...this.counts.unnamed } };
  }

  /** Why nothing was read, in a sentence to report once the run should have data; null when something was. */
  missing(): string | null {
    if (this.series.size > 0) return null;
    return (
      `Prometheus at ${this.url} holds no k6 series with testid="${this.opts.testId}": the runners have not remote-written to it ` +
      '(is its remote-write receiver on, --web.enable-remote-write-receiver with --enable-feature=native-histograms, and K6_PROMETHEUS_RW_SERVER_URL its /api/v1/write?)'
    );
  }

  /**
   * Keeps the spacings of the new samples of the histograms and drop counters (a push each) and
   * returns the push interval to spread them with: the median spacing, else the configured one.
   */
  private learnInterval(raw: readonly RawK6Series[]): number {
    for (const s of raw) {
      const samples = s.histograms ?? (s.labels.__name__ === DROPPED_METRIC ? s.values : undefined);
      if (!samples) continue;
      let prev = this.series.get(seriesKey(s.labels))?.lastTs ?? -Infinity;
      for (const [ts] of samples) {
        if (ts <= prev) continue;
        if (Number.isFinite(prev)) this.spacings[this.spacingsAt++ % SPACINGS_KEPT] = ts - prev;
        prev = ts;
      }
    }
    return this.intervalMs();
  }

  private intervalMs(): number {
    return this.measuredIntervalMs() ?? this.opts.pushIntervalMs ?? DEFAULT_PUSH_INTERVAL_MS;
  }

  private measuredIntervalMs(): number | null {
    if (this.spacings.length === 0) return null;
    const sorted = [...this.spacings].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)] as number;
  }

  private outcomes(labels: Record<string, string>, buckets: readonly NativeBucket[], a: number, b: number): void {
    const group = labels.group ?? '';
    const total = buckets.reduce((n, x) => n + Math.round(x.count), 0);
    // setup() and teardown() requests (k6 tags them with these groups) are not the load.
    if (group.startsWith('::setup') || group.startsWith('::teardown')) {
      this.counts.setupRequests += total;
      return;
    }
    const name = labels.name ?? '';
    let op = this.opts.opsByName.get(name);
    if (op === undefined) {
      op = -1;
      if (total > 0) this.counts.unnamed[name] = (this.counts.unnamed[name] ?? 0) + total;
    }
    const status = Number(labels.status ?? '0');
    const kind = status > 0 ? undefined : transportKind(labels.error_code);
    const zero = this.opts.zeroWallMs;
    for (const bucket of buckets) {
      const n = Math.round(bucket.count);
      const latencyMs = bucketLatencyMs(bucket);
      // Each bucket spread over the whole interval: any part of it gets its share of every latency.
      for (let i = 0; i < n; i++) {
        const endMs = spread(a, b, n, i) - zero;
        if (kind) this.sink.transportError(op, endMs, latencyMs, kind);
        else this.sink.response(op, endMs, latencyMs, status);
      }
      if (kind) this.counts.transportErrors += n;
      this.counts.outcomes += n;
    }
  }

  private drops(n: number, a: number, b: number): void {
    // A drop has no name tag (k6 tags it with the scenario only): totals, not a request's figures.
    for (let i = 0; i < n; i++) this.sink.dropped?.(-1, spread(a, b, n, i) - this.opts.zeroWallMs);
    this.counts.dropped += n;
  }
}

interface ApiHistogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}

/**
 * The query API's native histogram samples (`histograms: [[ts, {count, sum, buckets}]]`, Prometheus
 * ≥ 2.40 with native histograms on) parsed and moved under HISTOGRAMS of the series' metric, whose
 * labels prometheus-query copies as they are; the series is left with no float samples.
 */
function keepHistograms<T>(res: T): T {
  const data = (res as { data?: { data?: { resultType?: string; result?: unknown[] } } }).data?.data;
  if (data?.resultType !== 'matrix' || !Array.isArray(data.result)) return res;
  for (const r of data.result as Array<{ metric: Record<string | symbol, unknown>; values?: unknown[]; histograms?: Array<[number, ApiHistogram]> }>) {
    if (!r.histograms) continue;
    r.metric[HISTOGRAMS] = r.histograms.map(([ts, h]) => [
      Math.round(ts * 1000),
      {
        count: Number(h.count),
        sum: Number(h.sum),
        buckets: (h.buckets ?? []).map(([rule, lower, upper, count]) => ({ rule, lower, upper, count: Number(count) })),
      },
    ]);
    r.values ??= [];
  }
  return res;
}

