import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { K6_DRIVER_CAVEAT } from '../../harness/k6/report-text.js';
import { buildResult } from '../../harness/report/result.js';
import { runGameDay } from '../../harness/run/gameday.js';
import type { Plan } from '../../harness/scenario/plan.js';
import { runCli, startCli } from '../helpers/cli.js';
import { planFromText } from '../../harness/scenario/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLES = join(here, '../../../shared/k6-samples');

/**
 * A whole Game Day with spec.load.driver: k6, the stand-in replaying the recorded constant run (an
 * outage of the recorded target 8.0–10.5 s after its first request) at its recorded pace. The
 * scenario's fault (an http call to a do-nothing endpoint) is timed on that outage, so the client
 * RTO gameday measures from k6's samples can be held against the recorded truth.
 */
describe('gameday run with driver k6 (stand-in replaying the recorded run)', () => {
  let server: Server;
  let url = '';
  let out = '';
  let outcome: Awaited<ReturnType<typeof runGameDay>>;
  let shift = 0;
  let plan: Plan;
  let zeroWall = 0;
  const truth = JSON.parse(readFileSync(join(SAMPLES, 'constant.truth.json'), 'utf8'));

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'gd-k6-run-'));
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const env = { K6_BIN: join(here, 'fake-k6.mjs'), PATH: process.env['PATH'] ?? '' };
    const planned = planFromText(
      `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: k6-driven }
spec:
  duration: 15s
  warmup: 3s
  target: { url: "${url}" }
  load: { model: open, rate: 200, driver: k6, script: ${join(SAMPLES, 'constant.js')} }
  workload:
    requests:
      - { name: get-item, weight: 80, path: /items/1, expect: { status: [200] } }
      - { name: create-item, weight: 20, method: POST, path: /items, expect: { status: [201] } }
  faults:
    - { name: outage, kind: http, at: 8s, duration: 2500ms, inject: { method: POST, url: "${url}/down" }, recover: { method: POST, url: "${url}/up" } }
  recovery: { window: 2s, sustain: 1s }
  checks: [{ id: RTO, name: client rto, metric: rto.client, target: "< 5s" }]
`,
      { env },
    );
    expect(planned.problems).toBeUndefined();
    plan = planned.plan!;
    const shiftFile = join(out, 'shift');
    process.env['FAKE_K6_FIXTURE'] = join(SAMPLES, 'constant');
    process.env['FAKE_K6_SHIFT_FILE'] = shiftFile;
    try {
      const clock = new SystemClock();
      outcome = await runGameDay(plan, { outDir: join(out, 'run'), signal: new AbortController().signal, clock });
      zeroWall = clock.wallMs(0);
    } finally {
      delete process.env['FAKE_K6_FIXTURE'];
      delete process.env['FAKE_K6_SHIFT_FILE'];
    }
    shift = Number(readFileSync(shiftFile, 'utf8'));
  }, 40_000);

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(out, { recursive: true, force: true });
  });

  it('judges the recorded outage from k6 samples: client RTO within 100 ms of the truth', () => {
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('completed');
    const runMs = (epoch: number): number => epoch + shift - zeroWall;
    const w = truth.observed_503_window;
    const [rto] = outcome.analysis!.rtos;
    expect(rto!.client.recovered).toBe(true);
    // Recovery: the end of the last 503 (by send instant), measured from the fault.
    expect(Math.abs(rto!.client.rtoMs! - (runMs(w.last_503_epoch_ms) - rto!.atMs))).toBeLessThan(100);
    const d = outcome.analysis!.disruptions.find((x) => x.status5xx > 0)!;
    expect(Math.abs(d.startMs - runMs(w.first_503_epoch_ms))).toBeLessThan(100);
    expect(Math.abs(d.endMs - runMs(w.last_503_epoch_ms))).toBeLessThan(100);
    expect(d.status5xx).toBe(500);
  });

  it("keeps k6's own verdict in the journal apart from gameday's, and says from when k6 measures latency", () => {
    const k6 = outcome.analysis!.events.filter((e) => e.type === 'k6.exited');
    expect(k6).toHaveLength(1);
    // gameday stopped the 20 s recording at the run's end: k6 exits 105 (interrupted), thresholds as k6 wrote them.
    expect(k6[0]!.detail).toMatchObject({ exitCode: 105, stoppedByGameday: true, thresholdsCrossed: 'http_req_failed: rate==0', thresholdsHeld: 'http_req_duration{name:get-item}: p(95)<500', unnamedRequests: '' });
    const result = buildResult(plan, outcome.analysis!, outcome.status, {}, outcome.load);
    expect(result.caveats).toContain(K6_DRIVER_CAVEAT);
    expect(K6_DRIVER_CAVEAT).toContain("latency is k6's http_req_duration, measured from the actual send");
    // What the percentiles cover says the same, whatever model the scenario names (not "from the intended send time").
    expect(result.latency.over).toMatch(/^every request k6 sent after warm-up .* from the actual send/);
    // gameday's verdict: its own check (client RTO < 5 s) held, whatever k6's thresholds said.
    expect(result.verdict).toBe('passed');
  });
});

describe('gameday run with driver k6 through the CLI', () => {
  let dir = '';
  let server: Server;
  let url = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gd-k6-cli-'));
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'scenario.yaml'),
      `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: k6-cli }
spec:
  duration: 20s
  warmup: 1s
  target: { url: "${url}" }
  load: { driver: k6, script: ${join(SAMPLES, 'constant.js')} }
`,
    );
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('without k6: exit 2 with the precise problem, nothing started', async () => {
    const r = await runCli(['run', join(dir, 'scenario.yaml'), '-o', join(dir, 'none')], { K6_BIN: join(dir, 'no-k6') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`K6_BIN: expected an executable k6 file, found "${join(dir, 'no-k6')}" (no such file)`);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('Ctrl-C stops k6 too: exit 130, k6 interrupted and gone, its exit journaled', async () => {
    const pidFile = join(dir, 'k6.pid');
    const run = startCli(['run', join(dir, 'scenario.yaml'), '-o', join(dir, 'out')], { K6_BIN: join(here, 'fake-k6.mjs'), FAKE_K6_FIXTURE: join(SAMPLES, 'constant'), FAKE_K6_PID_FILE: pidFile });
    // The CLI's start-up (and the stand-in's) varies with the machine's load: bounded at 25 s.
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 1000));
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code).toBe(130);
    expect(() => process.kill(pid, 0)).toThrow();
    const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    const k6 = result.journal.filter((e: { type: string }) => e.type === 'k6.exited');
    expect(k6).toHaveLength(1);
    expect(k6[0].detail).toMatchObject({ exitCode: 105, stoppedByGameday: true });
    expect(result.runStatus).toBe('interrupted');
  }, 45_000);

  it('SIGKILL of gameday: the reaper interrupts k6 and removes its files', async () => {
    const pidFile = join(dir, 'k6-kill.pid');
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const run = startCli(['run', join(dir, 'scenario.yaml'), '-o', join(dir, 'out-kill')], { K6_BIN: join(here, 'fake-k6.mjs'), FAKE_K6_FIXTURE: join(SAMPLES, 'constant'), FAKE_K6_PID_FILE: pidFile, TMPDIR: tmp });
    // The CLI's start-up (and the stand-in's) varies with the machine's load: bounded at 25 s.
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(readdirSync(tmp).filter((d) => d.startsWith('gameday-k6-'))).toHaveLength(1);
    run.child.kill('SIGKILL');
    await run.exit;
    const gone = async (): Promise<boolean> => {
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    expect(await gone()).toBe(true);
    for (let i = 0; i < 100 && readdirSync(tmp).some((d) => d.startsWith('gameday-k6-')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(tmp).filter((d) => d.startsWith('gameday-k6-'))).toEqual([]);
  }, 45_000);
});
