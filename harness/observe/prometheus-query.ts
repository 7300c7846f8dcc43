import { Agent } from 'node:https';
import { PrometheusDriver, type QueryResult } from 'prometheus-query';
import type { TargetTls } from '../load/loopback.js';

/**
 * The servers' own view of a run, read back from Prometheus's query API after the load: per phase,
 * the requests the replicas counted, their 5xx, and p95/p99 from the duration histogram. Counts are
 * counter differences of the raw samples (exact over a window whose edges see no traffic); the
 * seed's PromQL (`increase(...[window])`, `histogram_quantile`) is evaluated beside them as written,
 * with the window set to the phase's length, so both readings and their arithmetic are on record.
 */

/** Probes and scrapes are counted by the Task API too; they are not the load's requests. */
export const NOT_LOAD = 'route!~"/health|/metrics"';
const QUERY_TIMEOUT_MS = 10_000;

/**
 * The label matchers inside a selector such as `{namespace="staging"}` (validated at plan time):
 * an existing Prometheus scrapes more than this run's replicas, so the seed's queries are narrowed
 * by them. Empty: every series (the local platform's Prometheus scrapes only the replicas).
 */
export function selectorMatchers(selector: string | undefined): string {
  if (!selector) return '';
  return selector.trim().slice(1, -1).trim().replace(/,\s*$/, '');
}

/** `metric{matchers…}` with the selector's matchers appended ("" stays out). */
export function selectMetric(metric: string, matchers: string[]): string {
  const list = matchers.filter((m) => m !== '');
  return list.length === 0 ? metric : `${metric}{${list.join(', ')}}`;
}

export interface PhaseWindow {
  /** "fault", "recovery"… or "run" for everything after warm-up. */
  phase: string;
  fault?: string;
  /** Run clock (ms) and wall clock (epoch ms) of the window. */
  startMs: number;
  endMs: number;
  startWallMs: number;
  endWallMs: number;
}

/** A quantile a bucketed histogram can give: the bucket that holds it, and Prometheus's interpolation. */
export interface ServerQuantile {
  /** Bounds of the bucket holding the quantile, ms (upper null: above the last finite bucket). */
  lowerMs: number | null;
  upperMs: number | null;
  /** The seed's `histogram_quantile(q, sum(rate(bucket[5m])) by (le))*1000` over the window instead of 5m; null: no data. */
  seedMs: number | null;
  seedQuery: string;
}

export interface ServerPhase extends PhaseWindow {
  /** The window in whole seconds as PromQL takes it, and how it was derived. */
  windowS: number;
  arithmetic: string;
  /** Requests answered, counted by the replicas: counter differences, interpolated between the scrapes around each edge. */
  requests: number;
  status5xx: number;
  /** status5xx over the window's length (per second), as the seed's rate(...) reads it. */
  rate5xxPerS: number;
  /** `sum(increase(task_api_requests_total{status=~"5.."}[window]))` at the window's end (extrapolated): the count the seed's rate implies. */
  seed5xx: { query: string; value: number | null };
  /** The seed's SC-009 query as written, `sum(rate(task_api_requests_total{status=~"5.."}[5m]))`, its [5m] replaced by the window (per second). */
  seedRate5xx?: { query: string; value: number | null };
  p95: ServerQuantile;
  p99: ServerQuantile;
}

export interface ScrapeGap {
  replica: string;
  /** Run clock of the last successful scrape and of the first failed one. */
  lastScrapeMs: number;
  /** null: the replica left the targets without a failed scrape and the platform did not say when it exited. */
  goneByMs: number | null;
}

/** The servers' p95 through the run, for the latency chart: the query, and [run-clock s, ms] points. */
export interface ServerP95Series {
  query: string;
  points: Array<[number, number]>;
}

/** Where the figures came from: the Prometheus the platform started, or an existing one (and the selector narrowing its queries). */
export interface ServerOrigin {
  existing?: true;
  selector?: string;
}

export type ServerView =
  | ({ source: 'prometheus'; url: string; scrapeIntervalS: number; phases: ServerPhase[]; scrapeGaps: ScrapeGap[]; p95Series: ServerP95Series } & ServerOrigin)
  | { skipped: string };

interface Series {
  labels: Record<string, string>;
  /** [epoch ms, value], ascending. */
  samples: Array<[number, number]>;
}

/** How a Prometheus is reached: its URL, and the bearer token (never logged) with the variable it came from. */
export interface PrometheusAccess {
  url: string;
  bearerToken?: string;
  /** The environment variable the token was read from, named in messages instead of the token. */
  tokenEnv?: string;
  /**
   * https: these CA certificates (PEM) trusted instead of the system CAs, a client certificate
   * presented (mTLS), the server's certificate checked against `serverName` when given.
   */
  tls?: TargetTls;
}

/** A client of one Prometheus's HTTP API. Its errors are Errors with a precise message, never carrying the token. */
export class PrometheusQuery {
  readonly url: string;
  private readonly driver: PrometheusDriver;

  constructor(private readonly access: PrometheusAccess | string) {
    const a = typeof access === 'string' ? { url: access } : access;
    this.url = a.url.replace(/\/+$/, '');
    this.driver = prometheusDriver(a, { timeoutMs: QUERY_TIMEOUT_MS });
  }

  /** An instant query's scalar: the sum of the vector's values; null when the vector is empty. */
  async scalar(query: string, atWallMs: number): Promise<number | null> {
    const values = await this.vector(query, atWallMs);
    if (values.length === 0) return null;
    return values.reduce((a, b) => a + b, 0);
  }

  /** The instant vector's values (for checks that want one number per series). */
  async vector(query: string, atWallMs: number): Promise<number[]> {
    return vectorValues(await this.call(() => this.driver.instantQuery(query, new Date(atWallMs))));
  }

  /** A range query's first series as [epoch ms, value] points (NaN values dropped). */
  async range(query: string, fromWallMs: number, toWallMs: number, stepS: number): Promise<Array<[number, number]>> {
    const res = await this.call(() => this.driver.rangeQuery(query, new Date(fromWallMs), new Date(toWallMs), stepS));
    const first = (res.result as Array<{ values: Array<{ time: Date; value: number }> }>)[0];
    return (first?.values ?? []).map((v) => [v.time.getTime(), Number(v.value)] as [number, number]).filter(([, v]) => Number.isFinite(v));
  }

  /** The raw samples of `selector` between two instants (a range-vector instant query). */
  async raw(selector: string, fromWallMs: number, toWallMs: number): Promise<Series[]> {
    const seconds = Math.max(1, Math.ceil((toWallMs - fromWallMs) / 1000));
    const res = await this.call(() => this.driver.instantQuery(`${selector}[${seconds}s]`, new Date(toWallMs)));
    return (res.result as Array<{ metric: { labels: Record<string, string> }; values: Array<{ time: Date; value: number }> }>).map((r) => ({
      labels: r.metric.labels,
      samples: r.values.map((v) => [v.time.getTime(), Number(v.value)] as [number, number]).sort((a, b) => a[0] - b[0]),
    }));
  }

  /**
   * One query answered, or the reason it cannot be: unreachable, refused credentials (401/403),
   * not a Prometheus API. Run before reading so the run says precisely why the cross-check is skipped.
   */
  async check(): Promise<void> {
    await this.vector('vector(1)', Date.now());
  }

  /**
   * The scrape interval of the series `up{matchers}` over the last two minutes (median spacing of
   * their samples), or undefined when no series matches.
   */
  async scrapeIntervalS(matchers: string, atWallMs: number): Promise<number | undefined> {
    const series = await this.raw(selectMetric('up', [matchers]), atWallMs - 120_000, atWallMs);
    const gaps = series.flatMap((s) => s.samples.slice(1).map(([t], i) => t - (s.samples[i] as [number, number])[0])).sort((a, b) => a - b);
    if (gaps.length === 0) return undefined;
    return Math.round((gaps[Math.floor(gaps.length / 2)] as number) / 100) / 10;
  }

  private async call<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      throw new Error(describeQueryError(err, this.url, typeof this.access === 'string' ? undefined : this.access));
    }
  }
}

/**
 * prometheus-query's driver for one Prometheus, as every client of it here needs it: the bearer
 * token, a private CA and a client certificate, no redirect or proxy, and error statuses kept.
 * `onResponse` may rewrite a successful answer (the k6 feed keeps native histogram samples the
 * library drops).
 */
export function prometheusDriver(a: PrometheusAccess, o: { timeoutMs: number; onResponse?: <T>(res: T) => T }): PrometheusDriver {
  // Node checks the certificate against `servername` when set (and sends it as SNI), else the URL's host.
  const t = a.tls;
  const httpsAgent = t ? new Agent({ ...(t.ca ? { ca: t.ca } : {}), ...(t.cert && t.key ? { cert: t.cert, key: t.key.reveal() } : {}), ...(t.serverName ? { servername: t.serverName } : {}), keepAlive: false }) : undefined;
  return new PrometheusDriver({
    endpoint: a.url.replace(/\/+$/, ''),
    baseURL: '/api/v1',
    timeout: o.timeoutMs,
    preferPost: true,
    ...(a.bearerToken ? { headers: { authorization: `Bearer ${a.bearerToken}` } } : {}),
    // The URL's host was allowed at validation: no redirect or proxy may take the queries elsewhere.
    // The driver's options have no TLS settings: the agent goes in each request's axios config.
    requestInterceptor: {
      onFulfilled: <T extends object>(config: T): T => Object.assign(config, { maxRedirects: 0, proxy: false }, httpsAgent ? { httpsAgent } : {}),
      onRejected: (e: unknown) => Promise.reject(e),
    },
    // A proxy in front of Prometheus answers errors in its own format: keep their status for the message.
    responseInterceptor: { onFulfilled: o.onResponse ?? (<T>(res: T): T => res), onRejected: keepStatus },
  });
}

/** An HTTP error whose body is not Prometheus's JSON becomes one, so prometheus-query reports its status. */
function keepStatus(err: { response?: { status: number; statusText?: string; data?: unknown } }): Promise<never> {
  const res = err?.response;
  const data = res?.data as { status?: unknown } | undefined;
  if (res && (typeof data !== 'object' || data === null || data.status == null)) {
    const body = typeof res.data === 'string' ? res.data.trim().slice(0, 200) : '';
    res.data = { status: 'error', error: body || res.statusText || 'no message' };
  }
  return Promise.reject(err);
}

/**
 * What went wrong, in a sentence: prometheus-query rejects with plain objects (its Axios error,
 * whose request config holds the Authorization header, under `original`); only the status, the
 * error code and Prometheus's own error text are taken, never the request.
 */
export function describeQueryError(err: unknown, url: string, access?: Pick<PrometheusAccess, 'bearerToken' | 'tokenEnv' | 'tls'>): string {
  const e = (err ?? {}) as { errorType?: string; httpStatus?: number; error?: unknown; code?: string; message?: string };
  const status = e.httpStatus;
  const text = typeof e.error === 'string' ? e.error : typeof e.message === 'string' ? e.message : 'unknown error';
  let out: string;
  if (status === 401 || status === 403) {
    const token = access?.bearerToken
      ? `the bearer token from $${access.tokenEnv ?? 'the environment'} was refused`
      : 'no bearer token was sent (set spec.observe.prometheus.bearerTokenEnv or --prometheus-token-env)';
    out = `Prometheus at ${url} answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}: ${token}`;
  } else if (status !== undefined) out = `Prometheus at ${url} answered HTTP ${status}: ${text}`;
  else if (isCertificateError(e.code)) out = `Prometheus at ${url} presented a certificate that is not trusted: ${text} (${e.code}); a private CA goes in spec.observe.prometheus.tls.ca`;
  else if (CLIENT_CERTIFICATE_ALERT.test(e.code ?? '')) out = clientCertificateRefused(url, e.code as string, access?.tls?.cert !== undefined);
  else if (e.errorType === 'network_error' || e.errorType === 'ssl_error') out = `Prometheus at ${url} is unreachable: ${text}`;
  else if (e.errorType === 'timeout_error') out = `Prometheus at ${url} did not answer within ${QUERY_TIMEOUT_MS / 1000} s`;
  else if (e.errorType === 'client_error') out = `${url} did not answer as a Prometheus query API (/api/v1/query)`;
  else out = `querying Prometheus at ${url} failed: ${text}`;
  // Whatever a server echoed back, the token never leaves this function.
  return access?.bearerToken ? out.replaceAll(access.bearerToken, '<token>') : out;
}

/** The TLS alerts a server sends when it wants a client certificate it did not get, or does not trust the one it got. */
const CLIENT_CERTIFICATE_ALERT = /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)$/;

/** The server's TLS alert said as what to do: send a client certificate, or another one. */
function clientCertificateRefused(url: string, code: string, sent: boolean): string {
  return sent
    ? `Prometheus at ${url} refused the client certificate of spec.observe.prometheus.tls.cert (${code}): one signed by a CA it trusts goes there`
    : `Prometheus at ${url} asks for a client certificate (${code}): it and its key go in spec.observe.prometheus.tls.cert and tls.key`;
}

/** OpenSSL's verification codes as Node names them (an unknown issuer, a self-signed chain, a name mismatch, an expired certificate…). */
function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /^(UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED_|CERT_|ERR_TLS_CERT_ALTNAME_INVALID$|HOSTNAME_MISMATCH$)/.test(code);
}

function vectorValues(res: QueryResult): number[] {
  if (res.resultType === 'scalar') return [Number((res.result as unknown as { value: number }).value)];
  return (res.result as Array<{ value: { value: number } }>).map((r) => Number(r.value.value)).filter((v) => !Number.isNaN(v));
}

/** PromQL's range for a window: whole seconds, at least one. */
export function windowSeconds(w: Pick<PhaseWindow, 'startMs' | 'endMs'>): number {
  return Math.max(1, Math.round((w.endMs - w.startMs) / 1000));
}

/** Substitutes `$__window` (the phase's length, as a PromQL duration). */
export function withWindow(query: string, w: Pick<PhaseWindow, 'startMs' | 'endMs'>): string {
  return query.replaceAll('$__window', `${windowSeconds(w)}s`);
}

/**
 * A counter's value at `t` for one series, between the scrapes around it: linearly interpolated
 * (requests assumed spread evenly over one scrape interval), so a window edge is placed at `t`
 * rather than at the next scrape. A series first scraped after `t` was 0 then: every series starts
 * at 0 with its process, and prom-client creates a labelled series at its first increment. A
 * series whose replica died keeps its last sample: what it answered after that scrape is lost with it.
 */
export function valueAt(samples: ReadonlyArray<readonly [number, number]>, t: number): number {
  const first = samples[0];
  if (!first || first[0] > t) return 0;
  for (let i = 1; i < samples.length; i++) {
    const [t1, v1] = samples[i]!;
    if (t1 < t) continue;
    const [t0, v0] = samples[i - 1]!;
    // A counter that went down restarted: its value at t is not comparable; take the later sample.
    if (v1 < v0 || t1 === t0) return v1;
    return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  }
  return samples[samples.length - 1]![1];
}

/** Requests counted in the window, summed over the series and rounded to a whole request. */
function increaseOf(series: Series[], w: PhaseWindow): number {
  let total = 0;
  for (const s of series) total += Math.max(0, valueAt(s.samples, w.endWallMs) - valueAt(s.samples, w.startWallMs));
  return Math.round(total);
}

/** Which bucket holds quantile q, from the buckets' increases summed over every series. */
export function bucketBounds(increases: Map<number, number>, q: number): { lowerMs: number | null; upperMs: number | null } | null {
  const les = [...increases.keys()].sort((a, b) => a - b);
  const total = increases.get(Infinity) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower: number | null = 0;
  for (const le of les) {
    if ((increases.get(le) ?? 0) >= rank) return { lowerMs: lower === null ? null : lower * 1000, upperMs: Number.isFinite(le) ? le * 1000 : null };
    lower = le;
  }
  return null;
}

function quantileOf(buckets: Series[], w: PhaseWindow, q: number): { lowerMs: number | null; upperMs: number | null } {
  const byLe = new Map<number, number>();
  for (const s of buckets) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + Math.max(0, valueAt(s.samples, w.endWallMs) - valueAt(s.samples, w.startWallMs)));
  }
  return bucketBounds(byLe, q) ?? { lowerMs: null, upperMs: null };
}

/**
 * Replicas whose scrapes stopped before the end: their last successful scrape, and when they were
 * gone (the platform's exit time when known, else the first failed scrape). Whatever they answered
 * in between was lost with their counters.
 */
function scrapeGaps(up: Series[], runStartWallMs: number, endWallMs: number, intervalS: number, exits: ReadonlyMap<string, number>): ScrapeGap[] {
  const gaps: ScrapeGap[] = [];
  for (const s of up) {
    // The local platform labels each target `replica`; a cluster's Prometheus names the pod.
    const replica = s.labels.replica ?? s.labels.pod ?? s.labels.instance;
    if (!replica) continue;
    const good = s.samples.filter(([, v]) => v === 1);
    const last = good[good.length - 1];
    if (!last || last[0] > endWallMs - 2000 * intervalS) continue;
    const failed = s.samples.find(([ts, v]) => v === 0 && ts > last[0]);
    const exitedMs = exits.get(replica);
    gaps.push({
      replica,
      lastScrapeMs: last[0] - runStartWallMs,
      goneByMs: exitedMs ?? (failed ? failed[0] - runStartWallMs : null),
    });
  }
  return gaps.sort((a, b) => a.lastScrapeMs - b.lastScrapeMs);
}

/**
 * Reads the server side of each window. `runStartWallMs` is the run clock's zero (epoch ms);
 * raw samples are fetched once for the whole run (with one scrape interval either side).
 */
export async function readServerView(
  client: PrometheusQuery,
  windows: PhaseWindow[],
  runStartWallMs: number,
  scrapeIntervalS: number,
  /** Run-clock exit time of replicas that exited, by name (from the platform's journal). */
  exits: ReadonlyMap<string, number> = new Map(),
  /** Label matchers narrowing every query to this run's service (see selectorMatchers); "" for all. */
  matchers = '',
): Promise<ServerView> {
  const REQUESTS = selectMetric('task_api_requests_total', [NOT_LOAD, matchers]);
  const BUCKETS = selectMetric('task_api_request_duration_seconds_bucket', [NOT_LOAD, matchers]);
  const from = Math.min(...windows.map((w) => w.startWallMs)) - 2000 * scrapeIntervalS;
  const to = Math.max(...windows.map((w) => w.endWallMs)) + 2000 * scrapeIntervalS;
  const [requests, buckets, up] = await Promise.all([client.raw(REQUESTS, from, to), client.raw(BUCKETS, from, to), client.raw(selectMetric('up', [matchers]), from, to)]);
  const fivexx = requests.filter((s) => /^5\d\d$/.test(s.labels.status ?? ''));
  const phases: ServerPhase[] = [];
  for (const w of windows) {
    const windowS = windowSeconds(w);
    const fivexxSeries = selectMetric('task_api_requests_total', ['status=~"5.."', matchers]);
    const seed5xxQuery = `sum(increase(${fivexxSeries}[${windowS}s]))`;
    const seedRateQuery = `sum(rate(${fivexxSeries}[${windowS}s]))`;
    const seedQ = (q: number): string => `histogram_quantile(${q}, sum(rate(${BUCKETS}[${windowS}s])) by (le))*1000`;
    const [seed5xx, seedRate, seedP95, seedP99] = await Promise.all([
      client.scalar(seed5xxQuery, w.endWallMs),
      client.scalar(seedRateQuery, w.endWallMs),
      client.scalar(seedQ(0.95), w.endWallMs),
      client.scalar(seedQ(0.99), w.endWallMs),
    ]);
    phases.push({
      ...w,
      windowS,
      arithmetic:
        `${w.phase}${w.fault ? ` of ${w.fault}` : ''}: ${fmtS(w.endMs)} − ${fmtS(w.startMs)} = ${((w.endMs - w.startMs) / 1000).toFixed(1)} s → [${windowS}s] in place of the seed's [5m], ` +
        `evaluated at ${new Date(w.endWallMs).toISOString()}; rate() = increase() ÷ ${windowS} s`,
      requests: increaseOf(requests, w),
      status5xx: increaseOf(fivexx, w),
      rate5xxPerS: round3(increaseOf(fivexx, w) / ((w.endMs - w.startMs) / 1000)),
      seed5xx: { query: seed5xxQuery, value: seed5xx === null ? null : round3(seed5xx) },
      seedRate5xx: { query: seedRateQuery, value: seedRate === null ? null : round3(seedRate) },
      p95: { ...quantileOf(buckets, w, 0.95), seedMs: finiteOrNull(seedP95), seedQuery: seedQ(0.95) },
      p99: { ...quantileOf(buckets, w, 0.99), seedMs: finiteOrNull(seedP99), seedQuery: seedQ(0.99) },
    });
  }
  // Each point covers the three scrapes before it, drawn at that span's middle.
  const span = Number.isInteger(3 * scrapeIntervalS) ? `${3 * scrapeIntervalS}s` : `${Math.round(3000 * scrapeIntervalS)}ms`;
  const p95Query = `histogram_quantile(0.95, sum(rate(${BUCKETS}[${span}])) by (le))*1000`;
  const runFrom = Math.min(...windows.map((w) => w.startWallMs));
  const runTo = Math.max(...windows.map((w) => w.endWallMs));
  const p95Points = (await client.range(p95Query, runFrom, runTo, scrapeIntervalS)).map(([t, v]) => [round3((t - runStartWallMs) / 1000 - 1.5 * scrapeIntervalS), round3(v)] as [number, number]);
  return { source: 'prometheus', url: client.url, scrapeIntervalS, phases, p95Series: { query: p95Query, points: p95Points }, scrapeGaps: scrapeGaps(up, runStartWallMs, Math.max(...windows.map((w) => w.endWallMs)), scrapeIntervalS, exits) };
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function finiteOrNull(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : round3(v);
}
