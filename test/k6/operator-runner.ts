// A k6 operator runner for tests (no k6 on these machines): started by the fake k6 operator as a
// runner pod's process with the TestRun's runner env and the k6 arguments. It sends GET requests to
// BASE_URL at RUNNER_RATE per second for RUNNER_MS, each tagged as the script would (`name`
// get-item), and remote-writes them as k6's output does (K6RunnerStandIn: native histograms,
// every K6_PROMETHEUS_RW_PUSH_INTERVAL) to K6_PROMETHEUS_RW_SERVER_URL, tagged with the TestRun's
// testid and the operator's instance_id / job_name. With LATENCY_MS it reports latencies of its
// own (LATENCY_MS × 1..1.2, seeded) instead of the measured ones, so that a test's figures do not
// depend on how busy the machine is. At the end it flushes, writes what it reported to
// OUT_DIR/<job_name>.json (the truth the test compares with) and exits 0.
import { writeFileSync } from 'node:fs';
import { request } from 'undici';
import { K6RunnerStandIn, type K6Request } from './remote-write.js';

const args = process.argv.slice(2);
const tags = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--tag' ? [a.split(/=(.*)/s).slice(0, 2) as [string, string]] : [])));
const env = process.env;
const writeUrl = env['K6_PROMETHEUS_RW_SERVER_URL'] ?? '';
const pushMs = Number(/^(\d+)s$/.exec(env['K6_PROMETHEUS_RW_PUSH_INTERVAL'] ?? '5s')?.[1] ?? 5) * 1000;
const rate = Number(env['RUNNER_RATE'] ?? 20);
const runMs = Number(env['RUNNER_MS'] ?? 3000);
const givenMs = env['LATENCY_MS'] !== undefined ? Number(env['LATENCY_MS']) : undefined;
/** mulberry32, seeded by the instance: the same latencies every run. */
let seed = (Number(tags['instance_id']) * 0x9e3779b9) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const instanceId = Number(tags['instance_id']);
const jobName = tags['job_name'] ?? '';
const runner = new K6RunnerStandIn(writeUrl.replace(/\/api\/v1\/write$/, ''), { testid: tags['testid'] ?? '', instanceId, testRun: jobName.replace(/-\d+$/, '') });

const latencies: number[] = [];
/**
 * Requests done since the last push, handed to the stand-in only as a push begins: the stand-in
 * marks a series sent with its latest sample after the write returns, so a request recorded
 * while a write is on the wire would count as sent without having been.
 */
const done: K6Request[] = [];
let inFlight = 0;
async function send(): Promise<void> {
  inFlight++;
  const t0 = performance.now();
  let status = 0;
  try {
    const res = await request(`${env['BASE_URL']}/items/1`, { headers: { 'x-runner': String(instanceId) }, headersTimeout: 5000, bodyTimeout: 5000 });
    await res.body.text();
    status = res.statusCode;
  } catch {
    status = 0;
  }
  const latencyMs = givenMs !== undefined ? givenMs * (1 + 0.2 * random()) : performance.now() - t0;
  latencies.push(latencyMs);
  done.push({ name: 'get-item', status, ...(status === 0 ? { errorCode: '1211' } : {}), endMs: Date.now(), latencyMs });
  inFlight--;
}

const start = Date.now();
let sent = 0;
// One push at a time, as k6's output does: a push never overlaps the one before it.
let pushing: Promise<unknown> = Promise.resolve();
const push = (): Promise<unknown> =>
  (pushing = pushing
    .then(() => {
      for (const r of done.splice(0)) runner.request(r);
      return runner.flush();
    })
    .catch(() => undefined));
const pusher = setInterval(() => void push(), pushMs);
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    // Exactly rate × RUNNER_MS / 1000 requests, however late the last tick comes.
    const due = Math.min(Math.floor(((Date.now() - start) * rate) / 1000), Math.floor((runMs * rate) / 1000));
    while (sent < due) {
      sent++;
      void send();
    }
    if (Date.now() - start >= runMs) {
      clearInterval(tick);
      resolve();
    }
  }, 10);
});
while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
clearInterval(pusher);
await push();
writeFileSync(`${env['OUT_DIR']}/${jobName}.json`, JSON.stringify({ sent, latencies }));
process.exit(0);
