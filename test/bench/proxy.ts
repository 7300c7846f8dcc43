import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { bareAutocannon } from './measure.js';

/**
 * What the latency proxy costs when no delay is set: Task API throughput (GET /tasks/:id through
 * the Service, bare autocannon) with replicas reaching PostgreSQL through the proxy vs directly.
 * Measured A B B A on two deployments of the same database size, so drift weighs on both.
 */
export async function proxyOverhead(clients: number, seconds: number): Promise<{ direct: number; proxied: number; ratio: number }> {
  const measure = async (databaseProxy: boolean): Promise<number> => {
    const clock = new SystemClock();
    const platform = new LocalPlatform(localPlatformPlan({ databaseProxy }), { journal: new Journal(clock) }, clock);
    try {
      const d = await platform.deploy(new AbortController().signal);
      await bareAutocannon(d.serviceUrl, clients, 2, 10_000); // warm JIT and pools
      return await bareAutocannon(d.serviceUrl, clients, seconds, 10_000);
    } finally {
      await platform.teardown();
    }
  };
  const direct = [await measure(false)];
  const proxied = [await measure(true), await measure(true)];
  direct.push(await measure(false));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { direct: mean(direct), proxied: mean(proxied), ratio: mean(proxied) / mean(direct) };
}
