import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { LatencyProxy } from '../../harness/platform/local/latency-proxy.js';
import type { NetworkDelay } from '../../harness/platform/local/network-delay.js';
import { databaseUrl, startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { median } from './sockets.js';

/** A real PostgreSQL behind the latency proxy, queried with `pg` as the replicas do. */

let postgres: TestPostgres;
let proxy: LatencyProxy;
let client: pg.Client;

beforeAll(async () => {
  postgres = await startTestPostgres();
  proxy = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: postgres.port });
  client = new pg.Client({ connectionString: databaseUrl(proxy.port, 'postgres'), application_name: 'through-proxy' });
  client.on('error', () => undefined);
  await client.connect();
});

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await proxy?.close();
  await postgres?.stop();
});

async function roundTripMs(c: pg.Client, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await c.query('SELECT 1');
    times.push(performance.now() - started);
  }
  return median(times);
}

const delay = (direction: NetworkDelay['direction']): NetworkDelay => ({ latencyMs: 200, jitterMs: 0, correlation: 0, direction });

async function backends(appName: string): Promise<number> {
  const direct = new pg.Client({ connectionString: postgres.url });
  await direct.connect();
  try {
    const { rows } = await direct.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName]);
    return rows[0]?.n ?? 0;
  } finally {
    await direct.end();
  }
}

describe('latency proxy in front of PostgreSQL', () => {
  it('adds no measurable delay when off', async () => {
    const direct = new pg.Client({ connectionString: postgres.url });
    await direct.connect();
    try {
      await roundTripMs(direct, 20);
      await roundTripMs(client, 20);
      const overhead = (await roundTripMs(client, 100)) - (await roundTripMs(direct, 100));
      expect(overhead).toBeLessThan(1);
    } finally {
      await direct.end();
    }
  });

  it.each([
    ['to', 200],
    ['from', 200],
    ['both', 400],
  ] as const)("200 ms '%s' grows a query's round trip by %i ms", async (direction, expectedMs) => {
    const before = await roundTripMs(client, 5);
    proxy.setDelay(delay(direction));
    try {
      const during = await roundTripMs(client, 5);
      expect(during).toBeGreaterThanOrEqual(expectedMs - 1);
      expect(during - before).toBeLessThan(expectedMs + 40);
    } finally {
      proxy.clearDelay();
    }
    expect(await roundTripMs(client, 5)).toBeLessThan(before + 20);
  });

  it('close() ends the proxied session: PostgreSQL sees the backend go', async () => {
    const own = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: postgres.port });
    const c = new pg.Client({ connectionString: databaseUrl(own.port, 'postgres'), application_name: 'closed-proxy' });
    const errored = new Promise<Error>((resolve) => c.on('error', resolve));
    await c.connect();
    expect(await backends('closed-proxy')).toBe(1);
    await own.close();
    expect((await errored).message).toMatch(/terminated|ECONNRESET|closed/i);
    const until = performance.now() + 5000;
    while ((await backends('closed-proxy')) > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await backends('closed-proxy')).toBe(0);
    expect(own.stats().openConnections).toBe(0);
  });
});
