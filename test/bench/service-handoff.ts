import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  /**
   * CPU µs per request each way, of the replicas, the Service process and this process (the
   * client, and the handoff Service) together: less disturbed by other work on the machine than
   * throughput, and what throughput at saturation follows on a machine whose cores are all busy.
   */
  cpuPerRequest: { service: number; direct: number; proxy: number };
}

/** Requests of each closed-loop autocannon run side by side, `connections[i]` to `urls[i]`. */
async function closedLoopEach(urls: string[], connections: number[], seconds: number, maxId: number): Promise<number[]> {
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
  return results.map((r) => r.requests.total);
}

/** Requests per second of closed-loop autocannon runs side by side, summed. */
async function closedLoop(urls: string[], connections: number[], seconds: number, maxId: number): Promise<number> {
  return (await closedLoopEach(urls, connections, seconds, maxId)).reduce((a, b) => a + b, 0) / seconds;
}

/** A client in its own process: `n` requests, each on a new connection, 8 at a time; prints how many failed. */
const CHURN_CLIENT = `
const http = require('node:http');
const [url, n] = [process.argv[1], Number(process.argv[2])];
let started = 0, done = 0, failed = 0;
const next = () => {
  if (started >= n) return;
  started++;
  const req = http.get(url + '/tasks/1', { agent: false, headers: { connection: 'close' } }, (res) => { res.resume(); res.on('end', fin); });
  req.on('error', () => { failed++; fin(); });
};
const fin = () => { if (++done === n) { process.stdout.write(String(failed)); process.exit(0); } next(); };
for (let i = 0; i < 8; i++) next();
`;

/** CPU µs (user + system) a process has used so far, from /proc. */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime, stime in clock ticks (100 Hz)
}

export interface ChurnCost {
  /** This process's CPU per new connection, its idle rate (probes, timers) measured just before subtracted. */
  harnessUsPerConn: number;
  /** The Service process's CPU per new connection, when the Service runs in one. */
  serviceProcessUsPerConn?: number;
  connsPerSec: number;
}

/** What new connections cost the harness through the Service at `url`: `n` of them, one request each, from another process. */
async function churnCost(url: string, n: number, servicePid?: number): Promise<ChurnCost> {
  const idle0 = process.cpuUsage();
  const tIdle = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  const idle = process.cpuUsage(idle0);
  const idleUsPerMs = (idle.user + idle.system) / (performance.now() - tIdle);
  const cpu0 = process.cpuUsage();
  const svc0 = servicePid ? processCpuUs(servicePid) : 0;
  const t0 = performance.now();
  const failed = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHURN_CLIENT, url, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`churn client exited with ${code}`))));
  });
  const ms = performance.now() - t0;
  if (failed > 0) throw new Error(`${failed} of ${n} requests on new connections failed`);
  const cpu = process.cpuUsage(cpu0);
  const harnessUsPerConn = Math.max(0, cpu.user + cpu.system - idleUsPerMs * ms) / n;
  return { harnessUsPerConn, ...(servicePid ? { serviceProcessUsPerConn: (processCpuUs(servicePid) - svc0) / n } : {}), connsPerSec: (n * 1000) / ms };
}

/** `total` connections over `parts` as round-robin deals them. */
const deal = (total: number, parts: number): number[] => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * GET /tasks/:id at saturation (closed loop, `clients` connections) on one deployment of the Task
 * API: through the Service, straight to the replicas, and through the proxying Service process on
 * the same replicas; `rounds` rounds, the order alternated (A B C, C B A, …) so drift of the
 * machine weighs on all alike.
 */
export async function serviceVsDirect(
  clients: number,
  seconds: number,
  rounds: number,
  log: (line: string) => void,
): Promise<{ rounds: ServiceRound[]; paired: Array<{ service: number; proxy: number }>; churn: { handoff: ChurnCost; proxy: ChurnCost } }> {
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
    // The same client side every way: one autocannon per replica's share of the connections.
    const pids = [...journal.events().filter((e) => e.type === 'replica.started').map((e) => Number(e.detail?.['pid'])), proxy.pid as number];
    const cpuNow = (): number => pids.reduce((n, pid) => n + processCpuUs(pid), 0) + process.cpuUsage().user + process.cpuUsage().system;
    const steps = {
      service: (s: number) => closedLoop(names.map(() => d.serviceUrl), split, s, maxId),
      direct: (s: number) => closedLoop(direct, split, s, maxId),
      proxy: (s: number) => closedLoop(names.map(() => proxyUrl), split, s, maxId),
    };
    for (const step of Object.values(steps)) await step(2); // warm JIT, pools and connections; not counted
    const out: ServiceRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['service', 'direct', 'proxy'] as const) : (['proxy', 'direct', 'service'] as const);
      const round: Partial<ServiceRound> = {};
      const cpu: Partial<ServiceRound['cpuPerRequest']> = {};
      for (const name of order) {
        const cpu0 = cpuNow();
        round[name] = await steps[name](seconds);
        cpu[name] = (cpuNow() - cpu0) / ((round[name] as number) * seconds);
      }
      round.cpuPerRequest = cpu as ServiceRound['cpuPerRequest'];
      out.push(round as ServiceRound);
      const r = round as ServiceRound;
      const c = r.cpuPerRequest;
      log(`  (m) round ${i + 1}/${rounds}: via Service ${r.service.toFixed(0)} req/s (${c.service.toFixed(0)} µs CPU/req), direct ${r.direct.toFixed(0)} req/s (${c.direct.toFixed(0)} µs), via proxy ${r.proxy.toFixed(0)} req/s (${c.proxy.toFixed(0)} µs)`);
    }
    // Paired: through the Service and straight to the replicas at the same instants, each replica
    // serving as many connections of each (one per replica per side and round-robin's rotation
    // cannot skew it): the machine's drift weighs on both sides alike by construction.
    const perReplica = Math.max(1, Math.floor(clients / (2 * names.length)));
    const paired: Array<{ service: number; proxy: number }> = [];
    for (let i = 0; i < rounds; i++) {
      const vs = async (url: string): Promise<number> => {
        const [front, ...straight] = await closedLoopEach([url, ...direct], [perReplica * names.length, ...names.map(() => perReplica)], seconds, maxId);
        return (front as number) / straight.reduce((a, b) => a + b, 0);
      };
      const pair = i % 2 === 0 ? { service: await vs(d.serviceUrl), proxy: await vs(proxyUrl) } : { proxy: await vs(proxyUrl), service: await vs(d.serviceUrl) };
      paired.push(pair);
      log(`  (m) paired round ${i + 1}/${rounds}: via Service / direct at the same time ${pair.service.toFixed(3)}, via proxy / direct ${pair.proxy.toFixed(3)}`);
    }
    // Connection churn (a new connection per request): the cost of each handoff to this process.
    const n = Number(process.env['BENCH_CHURN_CONNS'] ?? 2000);
    await churnCost(d.serviceUrl, 200);
    const churn = { handoff: await churnCost(d.serviceUrl, n), proxy: await churnCost(proxyUrl, n, proxy.pid) };
    return { rounds: out, paired, churn };
  } finally {
    await proxy.close();
    await platform.teardown();
  }
}
