import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CapacityDocument } from '../../harness/capacity/document.js';
import { capacityPlanFrom } from '../../harness/capacity/plan.js';
import { runCapacity } from '../../harness/capacity/run.js';
import { planFromText } from '../../harness/scenario/index.js';
import { scenarioSchema } from '../../harness/scenario/schema.js';
import { ROOT, startCli } from '../helpers/cli.js';
import { describeProcess, descendants, waitFor } from '../helpers/leftovers.js';

/**
 * gameday capacity against fixtures/capacity-server, whose capacity is known by construction:
 * 5 requests at a time × 50 ms = 100 req/s a replica. Rates stay far below what this machine can
 * generate (≤ 240/s), and the checks leave room for a noisy 2-core machine: the knee within 10 %.
 */
const PER_REPLICA = 100;
const STARTUP_MS = 500;

function scenario(capacity: string, opts: { replicas?: number } = {}): string {
  return `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: capacity-test }
spec:
  duration: 10s
  warmup: 1s
  platform:
    local:
      replicas: ${opts.replicas ?? 2}
      readinessProbe: { period: 100ms, timeout: 1s, failureThreshold: 1, successThreshold: 1 }
      terminationGracePeriod: 2s
      app:
        name: capsrv
        command: [node, fixtures/capacity-server/main.mjs]
        workingDir: ${ROOT}
        env: { CONCURRENCY: "5", SERVICE_MS: "50", STARTUP_MS: "${STARTUP_MS}" }
        readinessPath: /health
  workload: { requests: [{ name: work, path: /work, expect: { status: [200] } }] }
  load: { model: open, rate: 50, connections: 32, timeout: 2s }
  slo: { latencyP95: 150ms }
  capacity: ${capacity}
`;
}

async function capacityOf(text: string, outDir: string): Promise<CapacityDocument> {
  const r = planFromText(text, { env: {} });
  if (r.problems) throw new Error(r.problems.map((p) => `${p.path}: ${p.expected}, found ${p.found}`).join('\n'));
  const cap = capacityPlanFrom(scenarioSchema.parse(parse(text)), r.plan);
  return runCapacity(r.plan, cap, { outDir, signal: new AbortController().signal });
}

const dirs: string[] = [];
const outDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'gameday-capacity-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One capacity-server of 10 × 50 ms (200/s) for the spec.target cases, SLOW_FILE in its own directory. */
const target = { url: '', slowFile: '', server: undefined as ChildProcessWithoutNullStreams | undefined };
beforeAll(async () => {
  const dir = outDir();
  target.slowFile = join(dir, 'slow-ms');
  const server = spawn(process.execPath, [join(ROOT, 'fixtures/capacity-server/main.mjs')], { env: { ...process.env, PORT: '0', CONCURRENCY: '10', SERVICE_MS: '50', SLOW_FILE: target.slowFile } });
  target.server = server;
  target.url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) resolve(`http://127.0.0.1:${m[1]}`);
    });
    server.once('exit', () => reject(new Error(`capacity-server exited: ${out}`)));
  });
});
afterAll(async () => {
  const server = target.server;
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
});

/** The shared server as spec.target, 4 requests in flight at most, and a fault adding `slowMs` to every request. */
function targetScenario(capacity: string, slowMs: number): string {
  return `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: capacity-target }
spec:
  duration: 20s
  warmup: 1s
  target: { url: "${target.url}" }
  workload: { requests: [{ name: work, path: /work, expect: { status: [200] } }] }
  load: { model: open, rate: 50, connections: 8, timeout: 2s, maxInFlight: 4 }
  faults:
    - { name: slow, kind: exec, at: 2s, duration: 2s, inject: { command: "echo ${slowMs} > '${target.slowFile}'", shell: true }, recover: { command: [rm, -f, "${target.slowFile}"] } }
  recovery: { window: 5s, sustain: 2s }
  capacity: ${capacity}
`;
}

describe('gameday capacity on replicas of known capacity', () => {
  it('finds the knee within 10 % with 2 replicas and with one fewer, and measures recovery after killing them all', async (ctx) => {
    let seen: unknown;
    // On a failure, what the search saw (each step's verdict and why, the recovery figures).
    ctx.onTestFailed(() => console.error(JSON.stringify(seen, null, 1)));
    // A grid at 90 and 110 % of the truth: 90 % must hold and 110 % fail (the bisection is tested
    // in capacity-logic). N-1 searches the grid scaled by 1/2: 90 and 110 of one replica's 100/s.
    const doc = await capacityOf(scenario(`
    startRate: 180
    stepRate: 40
    maxRate: 400
    stepDuration: 1500ms
    settle: 500ms
    refine: 0
    maxDuration: 2m
    slo: { latencyP95: 150ms, failureRatio: "0.5%", achieved: "97%" }
    peak: 150/s
    variants: { nMinusOne: true }
    massTermination: { load: "50%", mode: all, before: 1s, observe: 8s }`), outDir());
    seen = { searches: doc.searches.map((s) => ({ name: s.name, knee: s.knee, steps: s.steps.map((st) => [st.rate, st.achievedRate, st.p95Ms, st.failures, st.verdict, ...st.reasons, ...st.generatorLimits]) })), mass: { ...doc.massTermination, seconds: undefined }, machine: doc.machine };
    expect(doc.status).toBe('completed');
    const n = doc.searches.find((s) => s.name === 'N');
    const n1 = doc.searches.find((s) => s.name === 'N-1');
    expect(n?.knee.status).toBe('found');
    expect(n?.knee.rate).toBeGreaterThanOrEqual(0.9 * 2 * PER_REPLICA);
    expect(n?.knee.rate).toBeLessThanOrEqual(1.1 * 2 * PER_REPLICA);
    expect(n?.knee.upper).toBeLessThanOrEqual(1.1 * 2 * PER_REPLICA);
    expect(n1?.replicas).toBe(1);
    expect(n1?.knee.status).toBe('found');
    expect(n1?.knee.rate).toBeGreaterThanOrEqual(0.9 * PER_REPLICA);
    expect(n1?.knee.rate).toBeLessThanOrEqual(1.1 * PER_REPLICA);
    expect(n1?.knee.upper).toBeLessThanOrEqual(1.1 * PER_REPLICA);
    expect(n?.headroom?.peak).toBe(150);

    // Mass termination: both replicas SIGKILLed at half the knee; each replacement takes STARTUP_MS to listen.
    const m = doc.massTermination;
    expect(m).toBeDefined();
    if (!m) return;
    expect(m.killed).toBe(2);
    expect(m.replicasBefore).toBe(2);
    expect(m.firstReadyMs).toBeGreaterThanOrEqual(STARTUP_MS);
    expect(m.firstReadyMs).toBeLessThan(STARTUP_MS + 3000);
    // Clients are served only once a replacement is ready (the Service routes to ready replicas).
    expect(m.firstServedMs).toBeGreaterThanOrEqual((m.firstReadyMs ?? 0) - 150);
    expect(m.firstServedMs).toBeLessThan((m.firstReadyMs ?? 0) + 1000);
    expect(m.capacityBackMs.p50).toBeGreaterThanOrEqual(m.firstReadyMs ?? 0);
    expect(m.capacityBackMs.p100).toBeGreaterThanOrEqual(m.capacityBackMs.p90 ?? Infinity);
    expect(m.replicasPerSecond).toBeCloseTo((2 * 1000) / (m.capacityBackMs.p100 ?? 1), 1);
    // Every arrival between the kill and the first served request was lost: about rate × that time.
    const expected = (m.rate * (m.firstServedMs ?? 0)) / 1000;
    expect(m.requestsLost).toBeGreaterThan(0.6 * expected);
    expect(m.requestsLost).toBeLessThan(1.4 * expected + 10);
    // The recovery curve: from 0 ready at the kill to both, capacity = ready × knee/2.
    expect(m.readyCurve[0]).toMatchObject({ atMs: 0, ready: 0, capacityRate: 0 });
    expect(m.readyCurve.at(-1)?.ready).toBe(2);
    // Forecast: ceil(150 / min(knee/2, knee(N-1)/1)) + 1 — 3 from either knee in range.
    const c = Math.min((n?.knee.rate ?? 1) / 2, n1?.knee.rate ?? 1);
    expect(doc.forecast?.replicas).toBe(Math.ceil(150 / c - 1e-9) + 1);
    expect(doc.machine.cpus).toBeGreaterThan(0);
    // Torn down: no replica, Service or reaper left (the reaper leaves just after the teardown).
    const ours = (): number[] => descendants().filter((pid) => pid !== target.server?.pid);
    await waitFor(() => ours().length === 0, 5000);
    expect(ours().map(describeProcess)).toEqual([]);
  }, 90_000);

  it('reports "at least X, limited by the load generator" when its maxInFlight caps the rate; a fault variant holds its fault for the whole search', async () => {
    // The shared server (2 × 100/s) as spec.target: 4 in flight × 50 ms let the generator keep at most
    // ~80/s going, far below the service's 200/s. The fault (an exec writing SLOW_FILE) adds 450 ms to
    // every request: 10 / 0.5 s = 20/s, and 4 in flight allow 8/s: its first step fails.
    const doc = await capacityOf(targetScenario(`
    startRate: 30
    stepRate: 60
    maxRate: 90
    stepDuration: 2s
    settle: 500ms
    variants: { nMinusOne: false, faults: [slow] }
    slo: { latencyP95: 150ms, failureRatio: "5%", achieved: "90%" }`, 450), outDir());
    const n = doc.searches[0];
    expect(n?.name).toBe('N');
    expect(n?.knee.status).toBe('generator-limited');
    // 30/s keeps ~1.5 in flight (a stalled moment may drop one or two: the budget is 5 %); 90/s
    // would need at least 4.5, so at least 11 % are dropped however fast the server answers.
    expect(n?.knee.rate).toBe(30);
    expect(n?.knee.upper).toBeNull();
    expect(n?.knee.text).toMatch(/^at least 30\/s, limited by the load generator at 90\/s \(.*\d+ arrivals dropped at the generator's maxInFlight \(4\)/);
    expect(n?.steps.every((st) => (st.p50Ms ?? Infinity) < 200)).toBe(true);
    // Under the fault every step answers in ≥ 450 ms, and the service fails at the first step.
    const f = doc.searches[1];
    expect(f?.name).toBe('fault:slow');
    // (A send-lag stall on a crowded machine may call that first step the generator's: no knee either way.)
    expect(['below-start', 'generator-limited']).toContain(f?.knee.status);
    expect(f?.knee.rate).toBeNull();
    expect(f?.steps.length).toBeGreaterThan(0);
    expect(f?.steps.every((st) => (st.p50Ms ?? 0) >= 450)).toBe(true);
    // Recovered after its search: the file is gone.
    expect(existsSync(target.slowFile)).toBe(false);
    expect(doc.forecast).toBeUndefined();
  }, 40_000);

  it('stops on SIGINT mid-search: the fault recovered, partial figures written, exit 130', async () => {
    const dir = outDir();
    const scenarioFile = join(dir, 'capacity.yaml');
    // The N search is one step (maxRate = startRate); the interrupt comes while the fault's search runs.
    writeFileSync(scenarioFile, targetScenario(`
    startRate: 30
    stepRate: 30
    maxRate: 30
    stepDuration: 1500ms
    settle: 500ms
    variants: { nMinusOne: false, faults: [slow] }`, 20));
    const run = startCli(['capacity', scenarioFile, '--out', join(dir, 'out')]);
    expect(await waitFor(() => existsSync(target.slowFile), 30_000)).toBe(true);
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code).toBe(130);
    expect(existsSync(target.slowFile)).toBe(false);
    const doc = JSON.parse(readFileSync(join(dir, 'out', 'capacity.json'), 'utf8')) as CapacityDocument;
    expect(doc.status).toBe('interrupted');
    // The N search finished before the interrupt (its one step judged); the fault's did not.
    expect(doc.searches[0]?.name).toBe('N');
    expect(doc.searches[0]?.steps.length).toBeGreaterThan(0);
    expect(doc.searches[0]?.knee.status).not.toBe('interrupted');
    expect(doc.searches[1]?.name).toBe('fault:slow');
    expect(doc.searches[1]?.knee.status).toBe('interrupted');
  }, 40_000);
});
