import type { ResponseSink, TransportErrorKind } from '../load/types.js';

/**
 * k6's `--out json` output (NDJSON) turned into outcomes for a ResponseSink (the timeline recorder).
 * Two line types: `Metric` (once per metric, before its first point: its type and thresholds) and
 * `Point` (one sample: metric, time, value, tags). Each HTTP request yields nine points with the same
 * time (the response's end) and tags; `http_req_duration` carries everything an outcome needs:
 * the latency from the actual send (k6 times from when the request left, not from when it was
 * scheduled), the status (`"0"`: no response, a transport error, its kind in `error_code`) and the
 * request's `name` tag. So an outcome is attributed at its send instant, time − http_req_duration,
 * like gameday's own drivers do. `dropped_iterations` points are arrivals k6 could not start (no VU
 * free): counted as dropped arrivals at their time.
 */

/** A k6 metric as its `Metric` line declares it. */
export interface K6Metric {
  name: string;
  type: string;
  /** Thresholds on the metric itself (not on its submetrics: the JSON output does not list those). */
  thresholds: string[];
}

export interface K6FeedCounts {
  /** Outcomes given to the sink (responses + transport errors). */
  completed: number;
  transportErrors: number;
  /** dropped_iterations. */
  dropped: number;
  /** Requests of setup() and teardown(): not outcomes. */
  setupRequests: number;
  /** Lines that were not JSON or not a Metric/Point (the first is kept in `firstBadLine`). */
  badLines: number;
  /** Outcomes whose `name` tag is not a workload request: in the totals only. */
  unnamed: Record<string, number>;
}

/** Epoch ms (fractional) of an RFC 3339 time with up to 9 fractional digits; NaN if it is not one. */
export function parseK6Time(text: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  return whole + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/**
 * k6 error codes (docs: "Error codes") to gameday's transport error kinds: dial timeout and request
 * timeout → timeout, refused → refused, reset / broken pipe → reset, 13xx → tls, the rest → other.
 */
export function transportKind(errorCode: string | undefined): TransportErrorKind {
  const code = Number(errorCode);
  if (code === 1050 || code === 1211) return 'timeout';
  if (code === 1212) return 'refused';
  if (code === 1220 || code === 1201) return 'reset';
  if (code >= 1300 && code < 1400) return 'tls';
  return 'other';
}

interface PointLine {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> | null };
}
interface MetricLine {
  type: 'Metric';
  metric: string;
  data: { name: string; type: string; thresholds?: string[] | null };
}

/** Feeds k6 JSON output, in chunks of any size, into a sink. */
export class K6SampleFeed {
  readonly counts: K6FeedCounts = { completed: 0, transportErrors: 0, dropped: 0, setupRequests: 0, badLines: 0, unnamed: {} };
  readonly metrics = new Map<string, K6Metric>();
  firstBadLine: string | undefined;
  /** Latest sample time seen, epoch ms (NaN before any). */
  lastTimeMs = Number.NaN;
  private partial = '';

  /**
   * @param opsByName workload request name → the op index the sink knows it by.
   * @param zeroWallMs epoch ms of the sink's time 0 (the run clock's zero).
   */
  constructor(
    private readonly sink: ResponseSink,
    private readonly opsByName: ReadonlyMap<string, number>,
    private readonly zeroWallMs: number,
  ) {}

  /** A chunk of the output; a line cut at the end is kept for the next chunk. */
  push(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  /** The end of the output: a last line without its newline is still read. */
  end(): void {
    if (this.partial.trim() !== '') this.line(this.partial);
    this.partial = '';
  }

  line(raw: string): void {
    if (raw.trim() === '') return;
    let parsed: PointLine | MetricLine;
    try {
      parsed = JSON.parse(raw) as PointLine | MetricLine;
    } catch {
      return this.bad(raw);
    }
    if (parsed?.type === 'Metric' && typeof parsed.data?.name === 'string') {
      this.metrics.set(parsed.data.name, { name: parsed.data.name, type: parsed.data.type, thresholds: parsed.data.thresholds ?? [] });
      return;
    }
    if (parsed?.type !== 'Point' || typeof parsed.data?.time !== 'string') return this.bad(raw);
    if (parsed.metric === 'http_req_duration') this.outcome(parsed);
    else if (parsed.metric === 'dropped_iterations') {
      const t = this.time(parsed);
      if (Number.isNaN(t)) return this.bad(raw);
      // A drop has no name tag (k6 tags it with the scenario only): totals, not a request's figures.
      const n = Math.max(1, Math.round(parsed.data.value));
      for (let i = 0; i < n; i++) this.sink.dropped?.(-1, t - this.zeroWallMs);
      this.counts.dropped += n;
    }
  }

  private outcome(p: PointLine): void {
    const t = this.time(p);
    const latencyMs = p.data.value;
    if (Number.isNaN(t) || !Number.isFinite(latencyMs) || latencyMs < 0) return this.bad(JSON.stringify(p));
    const tags = p.data.tags ?? {};
    // setup() and teardown() requests (k6 tags them with these groups) are not the load.
    const group = tags['group'] ?? '';
    if (group.startsWith('::setup') || group.startsWith('::teardown')) {
      this.counts.setupRequests++;
      return;
    }
    const name = tags['name'] ?? '';
    let op = this.opsByName.get(name);
    if (op === undefined) {
      op = -1;
      this.counts.unnamed[name] = (this.counts.unnamed[name] ?? 0) + 1;
    }
    const status = Number(tags['status'] ?? '0');
    const endMs = t - this.zeroWallMs;
    if (!(status > 0)) {
      this.sink.transportError(op, endMs, latencyMs, transportKind(tags['error_code']));
      this.counts.transportErrors++;
    } else this.sink.response(op, endMs, latencyMs, status);
    this.counts.completed++;
  }

  private time(p: PointLine): number {
    const t = parseK6Time(p.data.time);
    if (!(t <= this.lastTimeMs)) this.lastTimeMs = t;
    return t;
  }

  private bad(raw: string): void {
    this.counts.badLines++;
    this.firstBadLine ??= raw.slice(0, 200);
  }
}
