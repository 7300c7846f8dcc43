import { request } from 'node:http';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** The Task API's pool gauges, as its /metrics exposes them (read from the pool at scrape time). */
export const POOL_GAUGES = ['db_pool_total', 'db_pool_active', 'db_pool_idle', 'db_pool_wait_count'] as const;
export type PoolGaugeName = (typeof POOL_GAUGES)[number];
export type PoolGauges = Record<PoolGaugeName, number>;

/** A scrape larger than this is not a Task API's and is refused. */
const MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

/** The pool gauges in a Prometheus text exposition; throws if one is missing or not a number. */
export function readPoolGauges(exposition: string): PoolGauges {
  const families = parsePrometheusTextFormat(exposition);
  const read = (name: PoolGaugeName): number => {
    const sample = families.find((f) => f.name === name)?.metrics.find((m) => m.labels === undefined || Object.keys(m.labels).length === 0);
    const value = Number(sample?.value);
    if (sample?.value === undefined || !Number.isFinite(value)) throw new Error(`metric ${name} is missing or not a number`);
    return value;
  };
  return {
    db_pool_total: read('db_pool_total'),
    db_pool_active: read('db_pool_active'),
    db_pool_idle: read('db_pool_idle'),
    db_pool_wait_count: read('db_pool_wait_count'),
  };
}

/** GET http://127.0.0.1:<port>/metrics on a fresh connection, bounded by `timeoutMs`. */
export function scrapeMetrics(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`/metrics answered ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_EXPOSITION_BYTES) req.destroy(new Error('/metrics exposition too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`/metrics took longer than ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}
