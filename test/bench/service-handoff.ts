import autocannon from 'autocannon';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { ServiceProcess } from '../../harness/platform/local/service-process.js';
import { localPlatformPlan } from '../helpers/plans.js';

export interface ServiceRound {
  /** Through the platform's Service (the Task API's connections handed over to the replicas). */
  service: number;
  /** Straight to the replicas' own ports, the connections split over them as the Service splits them. */
  direct: number;
  /** Through the proxying Service process (what other apps get), on the same replicas. */
  proxy: number;
}

/** Requests per second of closed-loop autocannon runs side by side, `connections[i]` to `urls[i]`, summed. */
async function closedLoop(urls: string[], connections: number[], seconds: number, maxId: number): Promise<number> {
  const results = await Promise.all(
    urls.map((url, i) =>
      autocannon({
        url,
        connections: connections[i] as number,
        duration: seconds,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/tasks/${1 + Math.floor(Math.random() * maxId)}` }) }],
      }),
    ),
  );
  const errors = results.reduce((n, r) => n + r.errors + r.non2xx, 0);
  if (errors > 0) throw new Error(`${errors} failed requests during the measurement`);
  return results.reduce((n, r) => n + r.requests.total, 0) / seconds;
}

/** `total` connections over `parts` as round-robin deals them. */
const deal = (total: number, parts: number): number[] => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * GET /tasks/:id at saturation (closed loop, `clients` connections) on one deployment of the Task
 * API: through the Service, straight to the replicas, and through the proxying Service process on
 * the same replicas; `rounds` rounds, the order alternated (A B C, C B A, …) so drift of the
 * machine weighs on all alike.
 */
export async function serviceVsDirect(clients: number, seconds: number, rounds: number, log: (line: string) => void): Promise<ServiceRound[]> {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  const platform = new LocalPlatform(localPlatformPlan(), { journal }, clock);
  const proxy = new ServiceProcess(journal);
  try {
    const d = await platform.deploy(new AbortController().signal);
    const maxId = d.seededIds?.max ?? 1000;
    const names = d.replicas().map((r) => r.name);
    const ports = names.map((name) => {
      const e = journal.events().find((ev) => ev.type === 'replica.listening' && ev.target === name);
      if (typeof e?.detail?.['port'] !== 'number') throw new Error(`no port journaled for replica ${name}`);
      return e.detail['port'];
    });
    const proxyUrl = `http://127.0.0.1:${await proxy.start()}`;
    names.forEach((name, i) => proxy.add({ name, port: ports[i] as number }));
    const direct = ports.map((p) => `http://127.0.0.1:${p}`);
    const split = deal(clients, names.length);
    const steps = {
      service: (s: number) => closedLoop([d.serviceUrl], [clients], s, maxId),
      direct: (s: number) => closedLoop(direct, split, s, maxId),
      proxy: (s: number) => closedLoop([proxyUrl], [clients], s, maxId),
    };
    for (const step of Object.values(steps)) await step(2); // warm JIT, pools and connections; not counted
    const out: ServiceRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['service', 'direct', 'proxy'] as const) : (['proxy', 'direct', 'service'] as const);
      const round: Partial<ServiceRound> = {};
      for (const name of order) round[name] = await steps[name](seconds);
      out.push(round as ServiceRound);
      const r = round as ServiceRound;
      log(`  (m) round ${i + 1}/${rounds}: via Service ${r.service.toFixed(0)} req/s, direct ${r.direct.toFixed(0)} req/s, via proxy ${r.proxy.toFixed(0)} req/s`);
    }
    return out;
  } finally {
    await proxy.close();
    await platform.teardown();
  }
}
