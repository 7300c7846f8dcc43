import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { findK6 } from '../../harness/k6/binary.js';
import { createK6Driver } from '../../harness/load/k6-driver.js';
import { planFromText } from '../../harness/scenario/index.js';
import { TimelineRecorder, detectDisruptions } from '../../harness/timeline/index.js';

/**
 * The opt-in suite with a real k6 (GAMEDAY_E2E_K6=1; K6_BIN or k6 on PATH): the recorded fixtures'
 * script and target, run live through the k6 driver, and an exported scenario run by k6. Skipped
 * otherwise: no k6 can be installed on the machines the default suite runs on.
 */
const here = dirname(fileURLToPath(import.meta.url));
const SAMPLES = join(here, '../../../shared/k6-samples');
const enabled = process.env['GAMEDAY_E2E_K6'] === '1';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** target.mjs on a free port; its JSON lines collected. */
async function startTarget(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; lines: Array<Record<string, unknown>> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(SAMPLES, 'target.mjs')], { env: { ...process.env, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('target.mjs did not listen within 5 s')), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line['event'] === 'listening') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, child, lines };
}

describe.skipIf(!enabled)('real k6 (GAMEDAY_E2E_K6=1)', () => {
  let target: ChildProcess | undefined;
  afterEach(() => {
    target?.kill('SIGTERM');
    target = undefined;
  });
  const k6 = (): string => {
    const found = findK6(process.env);
    if ('problem' in found) throw new Error(found.problem);
    return found.bin;
  };
  const req = (name: string, method: string, path: string) => ({ name, weight: 1, method, path, headers: {}, capture: {} });

  it('the fixture script against the fixture target: the outage within 100 ms of what the target saw', { timeout: 60_000 }, async () => {
    const t = await startTarget({});
    target = t.child;
    const clock = new SystemClock();
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: 60_000 }], sloLatencyMs: 500, maxLatencyMs: 10_000, requests: [{ name: 'get-item' }, { name: 'create-item' }] });
    const plan = { model: 'open' as const, ratePerSec: 200, connections: 20, maxInFlight: 50, timeoutMs: 5000, seed: 1, workload: { pools: [], requests: [req('get-item', 'GET', '/'), req('create-item', 'POST', '/')] } };
    const run = createK6Driver(plan, { bin: k6(), script: join(SAMPLES, 'constant.js'), name: 'real', durationMs: 20_000 }, clock).start({ url: t.url, pools: new Map() }, recorder, new AbortController().signal);
    const summary = await run.done;
    expect(summary.k6?.exitCode).toBe(99);
    const first = t.lines.find((l) => l['event'] === 'outage_first_503')!['epoch_ms'] as number;
    const over = t.lines.find((l) => l['event'] === 'outage_over')!['first_ok_after_epoch_ms'] as number;
    const [d] = detectDisruptions(recorder.snapshot(), { latencyP95Ms: 500 });
    expect(Math.abs(d!.startMs - (first - clock.wallMs(0)))).toBeLessThan(100);
    expect(Math.abs(d!.endMs - (over - clock.wallMs(0)))).toBeLessThan(100);
  });

  it('an exported scenario runs in k6 with its request names', { timeout: 60_000 }, async () => {
    const t = await startTarget({ OUTAGE_START_MS: '86400000000', OUTAGE_END_MS: '86400002500' });
    target = t.child;
    const { plan, problems } = planFromText(
      `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: exported }
spec:
  duration: 4s
  target: { url: "${t.url}" }
  workload:
    requests:
      - { name: get-item, weight: 4, path: "/items/{{int 1 100}}", expect: { status: [200] } }
      - { name: create-item, weight: 1, method: POST, path: /items, body: '{"n": {{int 1 9}}}', expect: { status: [201] } }
  load: { model: open, rate: 50, driver: k6 }
`,
      { env: process.env },
    );
    expect(problems).toBeUndefined();
    const counts = [0, 0];
    const run = createK6Driver(plan!.load, plan!.load.k6!, new SystemClock()).start({ url: t.url, pools: new Map() }, { response: (op, _e, _l, status) => (status < 300 ? counts[op]!++ : 0), transportError: () => {} }, new AbortController().signal);
    const summary = await run.done;
    expect(summary.k6).toMatchObject({ exitCode: 0, unnamed: {}, badLines: 0 });
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBeGreaterThan(10);
  });
});
