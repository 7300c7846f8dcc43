import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { localPlatformPlan } from '../helpers/plans.js';

/** A tiny HTTP service on PORT: 200 on every path. */
const APP = `require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', function () { console.log(JSON.stringify({ event: 'listening', port: this.address().port })); });`;

describe('the first replicas', () => {
  it('are probed the moment they listen, not at their next period (5 s here)', { timeout: 30_000 }, async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const plan = localPlatformPlan({
      replicas: 2,
      readinessProbe: { initialDelayMs: 0, periodMs: 5000, timeoutMs: 1000, failureThreshold: 1, successThreshold: 1 },
      app: { name: 'tiny', command: ['node', '-e', APP], env: {}, readinessPath: '/health', database: false },
    });
    const platform = new LocalPlatform(plan, { journal }, clock);
    try {
      await platform.deploy(new AbortController().signal);
    } finally {
      await platform.teardown();
    }
    const at = (type: string, target: string): number => journal.events().find((e) => e.type === type && e.target === target)?.atMs ?? Number.NaN;
    const names = [...new Set(journal.events().filter((e) => e.type === 'replica.started').map((e) => e.target as string))];
    expect(names).toHaveLength(2);
    // Ready within a fraction of the period after listening (a probe's round trip on a busy machine),
    // where the period's rhythm from the spawn would have made it wait until 5 s after the spawn.
    for (const name of names) expect(at('replica.ready', name) - at('replica.listening', name)).toBeLessThan(2000);
  });
});
