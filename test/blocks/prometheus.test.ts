import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Gauge, Registry } from 'prom-client';
import { readPoolGauges, scrapeMetrics } from '../../harness/observe/prometheus.js';
import { countOpenFds, readRssBytes } from '../../harness/observe/proc.js';

/** Reading the Task API's pool gauges from a Prometheus exposition, and the /proc readers. */

async function exposition(values: Record<string, number>, extra?: (r: Registry) => void): Promise<string> {
  const registry = new Registry();
  for (const [name, value] of Object.entries(values)) new Gauge({ name, help: `${name} help`, registers: [registry] }).set(value);
  extra?.(registry);
  return registry.metrics();
}

const POOL = { db_pool_total: 10, db_pool_active: 7, db_pool_idle: 3, db_pool_wait_count: 2 };

describe('readPoolGauges', () => {
  it('reads the four gauges, ignoring labelled series and other metrics', async () => {
    const text = await exposition(POOL, (r) => {
      new Gauge({ name: 'db_pool_active_by', help: 'x', labelNames: ['replica'], registers: [r] }).set({ replica: 'a' }, 99);
    });
    expect(readPoolGauges(`${text}\n# a comment\nunrelated_total{a="b \\" c"} 5\n`)).toEqual(POOL);
  });

  it('throws when a gauge is missing or not a number', async () => {
    const { db_pool_wait_count: _, ...three } = POOL;
    const partial = await exposition(three);
    expect(() => readPoolGauges('x')).toThrow();
    expect(() => readPoolGauges(partial)).toThrow(/db_pool_wait_count/);
    expect(() => readPoolGauges(`${partial}db_pool_wait_count NaN\n`)).toThrow(/db_pool_wait_count/);
  });
});

describe('scrapeMetrics', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
    server = createServer(handler);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    return (server.address() as { port: number }).port;
  }

  it('returns the exposition of a 200 and refuses anything else', async () => {
    const text = await exposition(POOL);
    let status = 200;
    const port = await serve((req, res) => {
      res.statusCode = req.url === '/metrics' ? status : 404;
      res.end(text);
    });
    expect(readPoolGauges(await scrapeMetrics(port, 1000))).toEqual(POOL);
    status = 503;
    await expect(scrapeMetrics(port, 1000)).rejects.toThrow(/503/);
  });

  it('gives up after its timeout on a replica that never answers', async () => {
    const port = await serve(() => undefined);
    const started = performance.now();
    await expect(scrapeMetrics(port, 200)).rejects.toThrow(/200ms/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('/proc readers', () => {
  it('read this process: RSS in bytes, open fds; a missing pid rejects', async () => {
    const rss = await readRssBytes(process.pid);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(Math.abs(rss - process.memoryUsage().rss)).toBeLessThan(64 * 1024 * 1024);
    expect(await countOpenFds(process.pid)).toBeGreaterThan(3);
    await expect(readRssBytes(2 ** 22 + 1)).rejects.toThrow();
  });
});
