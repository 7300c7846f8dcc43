import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { request } from 'undici';

/**
 * A stand-in of k6's Prometheus remote-write output (`-o experimental-prometheus-rw` with
 * K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true), for tests: no k6 runs on these machines.
 * As k6's output does, a runner keeps one cumulative sink per label set — a native histogram
 * (bucket factor 1.1, so schema 3, in seconds) for `http_req_duration`, counters for `http_reqs`
 * and `dropped_iterations` — and at each flush sends only the series that got samples since the
 * last one, each stamped with the time of its latest sample (not of the flush). Requests are
 * prompb WriteRequests (Prometheus's remote-write 1.0 spec), protobuf then block snappy.
 */

// The messages of the remote-write 1.0 spec that a k6 runner sends (prompb/types.proto, remote.proto).
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 4;
}
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
}
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

/** client_golang picks the largest schema whose factor 2^(2^-schema) is ≤ NativeHistogramBucketFactor (k6: 1.1). */
export const K6_SCHEMA = 3;
/** client_golang's default zero threshold (2^-128): only a zero lands in the zero bucket. */
export const ZERO_THRESHOLD = 2 ** -128;

/** The upper bound of positive bucket `index` of `schema`: 2^(index · 2^-schema). */
export function bucketUpper(index: number, schema = K6_SCHEMA): number {
  return 2 ** (index / 2 ** schema);
}

/** The positive bucket (lower, upper] holding v > 0. */
export function bucketIndex(v: number, schema = K6_SCHEMA): number {
  let i = Math.ceil(Math.log2(v) * 2 ** schema);
  // Float rounding of the logarithm at a boundary: settle on the bucket whose bounds hold v.
  while (bucketUpper(i - 1, schema) >= v) i--;
  while (bucketUpper(i, schema) < v) i++;
  return i;
}

/** A cumulative native histogram of positive values (latencies in seconds). */
export class NativeHistogram {
  count = 0;
  sum = 0;
  zeroCount = 0;
  readonly buckets = new Map<number, number>();
  constructor(readonly schema = K6_SCHEMA) {}

  observe(v: number): void {
    this.count++;
    this.sum += v;
    if (v <= ZERO_THRESHOLD) this.zeroCount++;
    else {
      const i = bucketIndex(v, this.schema);
      this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    }
  }

  /** The prompb form: spans of consecutive indexes, counts as deltas from the previous bucket. */
  toProto(timestamp: number): Record<string, unknown> {
    const indexes = [...this.buckets.keys()].sort((a, b) => a - b);
    const spans: Array<{ offset: number; length: number }> = [];
    const deltas: number[] = [];
    let prevIndex: number | undefined;
    let prevCount = 0;
    for (const i of indexes) {
      if (prevIndex !== undefined && i === prevIndex + 1) spans[spans.length - 1]!.length++;
      else spans.push({ offset: prevIndex === undefined ? i : i - prevIndex - 1, length: 1 });
      const c = this.buckets.get(i)!;
      deltas.push(c - prevCount);
      prevCount = c;
      prevIndex = i;
    }
    return {
      countInt: this.count,
      sum: this.sum,
      schema: this.schema,
      zeroThreshold: ZERO_THRESHOLD,
      zeroCountInt: this.zeroCount,
      positiveSpans: spans,
      positiveDeltas: deltas,
      timestamp,
    };
  }
}

export type Labels = Record<string, string>;

export interface WrittenSeries {
  labels: Labels;
  samples?: Array<{ value: number; timestamp: number }>;
  histograms?: Array<Record<string, unknown>>;
}

/** A WriteRequest as sent on the wire: protobuf, then block snappy. */
export function encodeWriteRequest(series: WrittenSeries[]): Uint8Array {
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      // The spec wants labels sorted by name.
      labels: Object.entries(s.labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ name, value })),
      samples: s.samples ?? [],
      histograms: s.histograms ?? [],
    })),
  });
  return snappy.compress(WriteRequest.encode(message).finish());
}

/** Decodes what encodeWriteRequest wrote (for the stand-in's own test). */
export function decodeWriteRequest(body: Uint8Array): Record<string, unknown> {
  return WriteRequest.toObject(WriteRequest.decode(snappy.uncompress(body)), { longs: Number, oneofs: true }) as Record<string, unknown>;
}

/** POSTs one WriteRequest to `<prometheus>/api/v1/write`; rejects with the receiver's answer unless 2xx. */
export async function remoteWrite(prometheusUrl: string, series: WrittenSeries[]): Promise<void> {
  const res = await request(`${prometheusUrl.replace(/\/+$/, '')}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body: Buffer.from(encodeWriteRequest(series)),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`remote write answered ${res.statusCode}: ${text.trim()}`);
}

/** One request as k6 records it. */
export interface K6Request {
  /** The `name` tag ("" for none: k6 then tags the URL). */
  name: string;
  /** The URL (default: the name, or http://target/item for a request without one). */
  url?: string;
  /** HTTP status; 0 for a transport error. */
  status: number;
  /** k6's error_code tag (a transport error's 1xxx, or 1500 + status for an HTTP error). */
  errorCode?: string;
  /** Epoch ms of the response's end (k6's sample time). */
  endMs: number;
  latencyMs: number;
  /** k6's `group` tag: "::setup" for setup() requests. */
  group?: string;
}

interface SeriesState<T> {
  labels: Labels;
  sink: T;
  /** Epoch ms of the latest sample; the series is sent at the next flush when it is newer than `sentAt`. */
  latest: number;
  sentAt: number;
}

/**
 * One k6 runner of a TestRun: the k6 operator tags its samples `instance_id` (its segment, 1..n)
 * and `job_name` (`<testrun>-<n>`); the TestRun adds `testid`.
 */
export class K6RunnerStandIn {
  private readonly durations = new Map<string, SeriesState<NativeHistogram>>();
  private readonly reqs = new Map<string, SeriesState<{ value: number }>>();
  private readonly dropped = new Map<string, SeriesState<{ value: number }>>();

  constructor(
    private readonly prometheusUrl: string,
    private readonly base: { testid: string; instanceId: number; testRun: string; scenario?: string },
  ) {}

  private labels(extra: Labels): Labels {
    return {
      testid: this.base.testid,
      instance_id: String(this.base.instanceId),
      job_name: `${this.base.testRun}-${this.base.instanceId}`,
      scenario: this.base.scenario ?? 'default',
      ...extra,
    };
  }

  request(r: K6Request): void {
    const url = r.url ?? (r.name === '' ? 'http://target/item' : r.name);
    const tags: Labels = {
      name: r.name === '' ? url : r.name,
      url,
      method: 'GET',
      proto: 'HTTP/1.1',
      status: String(r.status),
      expected_response: String(r.status > 0 && r.status < 400),
      ...(r.errorCode ? { error_code: r.errorCode } : {}),
      ...(r.group ? { group: r.group } : {}),
    };
    const key = JSON.stringify(tags);
    const t = Math.floor(r.endMs);
    const d = upsert(this.durations, key, () => ({ labels: this.labels({ __name__: 'k6_http_req_duration_seconds', ...tags }), sink: new NativeHistogram(), latest: -Infinity, sentAt: -Infinity }));
    d.sink.observe(r.latencyMs / 1000);
    d.latest = Math.max(d.latest, t);
    const c = upsert(this.reqs, key, () => ({ labels: this.labels({ __name__: 'k6_http_reqs_total', ...tags }), sink: { value: 0 }, latest: -Infinity, sentAt: -Infinity }));
    c.sink.value++;
    c.latest = Math.max(c.latest, t);
  }

  /** k6's dropped_iterations: tagged with the scenario only. */
  droppedIterations(n: number, atMs: number): void {
    const c = upsert(this.dropped, '', () => ({ labels: this.labels({ __name__: 'k6_dropped_iterations_total' }), sink: { value: 0 }, latest: -Infinity, sentAt: -Infinity }));
    c.sink.value += n;
    c.latest = Math.max(c.latest, Math.floor(atMs));
  }

  /** The series k6 would send now: those with samples since the last flush, stamped with their latest sample. */
  pending(): WrittenSeries[] {
    const out: WrittenSeries[] = [];
    for (const s of this.durations.values()) if (s.latest > s.sentAt) out.push({ labels: s.labels, histograms: [s.sink.toProto(s.latest)] });
    for (const map of [this.reqs, this.dropped]) {
      for (const s of map.values()) if (s.latest > s.sentAt) out.push({ labels: s.labels, samples: [{ value: s.sink.value, timestamp: s.latest }] });
    }
    return out;
  }

  /** A push interval's flush: sends the pending series in one WriteRequest. */
  async flush(): Promise<number> {
    const series = this.pending();
    // Marked sent as of what this write carries: a sample recorded while it is on the wire goes with the next.
    const states = [this.durations, this.reqs, this.dropped] as Array<Map<string, SeriesState<unknown>>>;
    const carried = states.map((map) => [...map.values()].map((s) => [s, s.latest] as const));
    if (series.length > 0) await remoteWrite(this.prometheusUrl, series);
    for (const pairs of carried) for (const [s, latest] of pairs) s.sentAt = latest;
    return series.length;
  }

  /** The runner's process restarted: every sink starts again from zero (a counter reset downstream). */
  restart(): void {
    for (const map of [this.durations, this.reqs, this.dropped] as Array<Map<string, SeriesState<{ value?: number }>>>) {
      for (const s of map.values()) {
        s.sink = (s.sink instanceof NativeHistogram ? new NativeHistogram(s.sink.schema) : { value: 0 }) as never;
      }
    }
  }
}

function upsert<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
