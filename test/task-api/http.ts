/** A thin client over global fetch for talking to a Task API replica in tests. */

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response was JSON, else undefined. */
  body: T;
  text: string;
  elapsedMs: number;
}

export interface CallOptions {
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (with `contentType`, if given); bytes for bodies that are not UTF-8. */
  raw?: string | Uint8Array;
  contentType?: string;
  signal?: AbortSignal;
}

export async function call<T = unknown>(base: string, method: string, path: string, options: CallOptions = {}): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  let body: string | Blob | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.raw !== undefined) {
    body = typeof options.raw === 'string' ? options.raw : new Blob([Buffer.from(options.raw)]);
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const startedAt = performance.now();
  const response = await fetch(`${base}${path}`, { method, headers, body, signal: options.signal ?? AbortSignal.timeout(15_000) });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('application/json') ?? false;
  return {
    status: response.status,
    headers: response.headers,
    body: (isJson && text !== '' ? JSON.parse(text) : undefined) as T,
    text,
    elapsedMs: performance.now() - startedAt,
  };
}

/** One sample of a Prometheus text exposition, e.g. `db_pool_active` or `x_total{a="b"}`. */
export function metricValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
