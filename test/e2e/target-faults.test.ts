import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { SwitchServer } from '../fixtures-switch/switch-server.js';
import { startCli } from '../helpers/cli.js';
import { describeProcess, descendants, isAlive, waitFor } from '../helpers/leftovers.js';

const FLIP = fileURLToPath(new URL('../fixtures-switch/flip.mjs', import.meta.url));
const SECRET = 'Bearer e2e-secret-token';

/** An existing service (spec.target.url) with one 2 s fault of the given kind; open model, 200 req/s. */
const scenario = (url: string, fault: string): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: target-fault }
spec:
  duration: 9s
  warmup: 1s
  target: { url: "${url}" }
  load: { model: open, rate: 200, connections: 32, timeout: 1s, mix: { get: 90, list: 10 } }
  faults:
${fault}
  recovery: { window: 3s, sustain: 1s }
  checks: [{ id: RTO, name: client rto, metric: rto.client, target: "< 5s" }]
`;

describe('faults on any HTTP service (spec.target.url): client RTO within 100 ms of the outage they cause', () => {
  let out = '';
  beforeAll(() => void (out = mkdtempSync(join(tmpdir(), 'gd-target-faults-'))));
  let server: SwitchServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  async function run(fault: (url: string) => string, dir: string) {
    const clock = new SystemClock();
    server = new SwitchServer(clock);
    await server.start();
    const { plan, problems } = planFromText(scenario(server.url, fault(server.url)), { env: {} });
    expect(problems).toBeUndefined();
    const outDir = join(out, dir);
    const outcome = await runGameDay(plan!, { outDir, signal: new AbortController().signal, clock });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('completed');
    const outages = server.outages();
    expect(outages).toHaveLength(1);
    const truth = outages[0]!;
    const [rto] = outcome.analysis!.rtos;
    expect(rto!.client.recovered).toBe(true);
    return { outcome, truth, clientMs: rto!.client.rtoMs!, outDir, events: outcome.analysis!.events };
  }

  it('http: inject and recover requests switch the service off for the fault duration', async () => {
    const { truth, clientMs, events } = await run(
      (url) => `    - name: switch-off
      kind: http
      at: 3s
      duration: 2s
      inject: { method: POST, url: "${url}/switch?token=qs-secret", headers: { authorization: "${SECRET}", content-type: application/json }, body: '{"down":true}' }
      recover: { method: POST, url: "${url}/switch", headers: { authorization: "${SECRET}" }, body: '{"down":false}', expect: { status: [200] } }`,
      'http',
    );
    // The requests went out on time: the outage is the fault's 2 s.
    expect(Math.abs(truth.startMs - 3000)).toBeLessThan(100);
    expect(Math.abs(truth.endMs - truth.startMs - 2000)).toBeLessThan(100);
    expect(Math.abs(clientMs - (truth.endMs - truth.startMs))).toBeLessThan(100);
    expect(Math.abs(clientMs - 2000)).toBeLessThan(100);
    expect(server!.flips.map((f) => f.authorization)).toEqual([SECRET, SECRET]);
    const mine = events.filter((e) => e.fault === 'switch-off').map((e) => e.type);
    expect(mine).toEqual(['fault.started', 'http.injected', 'fault.applied', 'http.recovered', 'fault.recovered']);
    const journalled = JSON.stringify(events);
    expect(journalled).not.toContain('e2e-secret');
    expect(journalled).not.toContain('qs-secret');
    expect(journalled).not.toContain('"down":true');
  });

  it('exec: inject and recover commands (a node script each) switch the service off', async () => {
    const { truth, clientMs, events, outDir } = await run(
      (url) => `    - name: flip
      kind: exec
      at: 3s
      duration: 2s
      inject: { command: ["${process.execPath}", "${FLIP}", "${url}", down], timeout: 5s }
      recover: { command: ["${process.execPath}", "${FLIP}", "${url}", up], timeout: 5s }`,
      'exec',
    );
    // A command takes a node start-up to act, so the truth is what the service saw.
    expect(Math.abs(clientMs - (truth.endMs - truth.startMs))).toBeLessThan(100);
    expect(truth.startMs).toBeGreaterThanOrEqual(3000);
    expect(Math.abs(truth.endMs - truth.startMs - 2000)).toBeLessThan(500);
    const mine = events.filter((e) => e.fault === 'flip');
    expect(mine.map((e) => e.type)).toEqual(['fault.started', 'exec.injected', 'fault.applied', 'exec.recovered', 'fault.recovered']);
    expect(mine[1]!.detail).toMatchObject({ exitCode: 0, log: 'logs/fault-flip.log' });
    const log = join(outDir, 'logs', 'fault-flip.log');
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/switch down: 200[\s\S]*switch up: 200/);
  });
});

describe('Ctrl-C while an exec fault\'s inject command still runs (through the CLI)', () => {
  it('kills the inject command\'s process group, runs recover, exits 130 with the journal', { timeout: 60_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'gd-target-int-'));
    const server = new SwitchServer(new SystemClock());
    await server.start();
    const file = join(out, 'scenario.yaml');
    writeFileSync(
      file,
      scenario(
        server.url,
        `    - name: hold
      kind: exec
      at: 2s
      duration: 4s
      inject: { command: ["${process.execPath}", "${FLIP}", "${server.url}", down, hold], timeout: 30s }
      recover: { command: ["${process.execPath}", "${FLIP}", "${server.url}", up], timeout: 5s }`,
      ),
    );
    const run = startCli(['run', file, '--out', join(out, 'report')], {}, { detached: true });
    try {
      // The inject command flipped the switch and keeps running: the run is inside its apply.
      const log = join(out, 'report', 'logs', 'fault-hold.log');
      expect(await waitFor(() => server.flips.length === 1 && existsSync(log) && readFileSync(log, 'utf8').includes('switch down: 200'), 30_000, 20)).toBe(true);
      const seen = descendants(run.child.pid);
      expect(seen.length).toBeGreaterThan(0);
      process.kill(-(run.child.pid as number), 'SIGINT'); // a terminal's Ctrl-C: the CLI's whole group
      const exit = await run.exit;
      expect(exit.code).toBe(130);
      expect(server.flips.map((f) => f.down)).toEqual([true, false]);
      const alive = (): string[] => seen.filter(isAlive).map(describeProcess);
      await waitFor(() => alive().length === 0, 2000);
      expect(alive()).toEqual([]);
      const result = JSON.parse(readFileSync(join(out, 'report', 'result.json'), 'utf8')) as ResultDocument;
      expect(result.runStatus).toBe('interrupted');
      const types = result.journal.filter((e) => e.fault === 'hold').map((e) => e.type);
      expect(types).toEqual(['fault.started', 'exec.inject-interrupted', 'fault.applied', 'exec.recovered', 'fault.recovered']);
      expect(readFileSync(log, 'utf8')).toMatch(/switch down: 200[\s\S]*inject .*: interrupted[\s\S]*switch up: 200/);
    } finally {
      run.child.kill('SIGKILL');
      await server.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
