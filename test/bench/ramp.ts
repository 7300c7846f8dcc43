import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SystemClock } from '../../harness/core/clock.js';
import { RampCurve } from '../../harness/load/arrivals.js';
import { createLoadDriver } from '../../harness/load/index.js';
import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { LoadPlan, RampStage } from '../../harness/load/types.js';
import { TimelineRecorder } from '../../harness/timeline/index.js';

export interface RampFollowing {
  /** Seconds judged: past the first second of their stage, with at least 50 arrivals planned. */
  judged: number;
  /** Of them, how many received within 2 % of the rate's integral over the second. */
  within: number;
  worstPct: number;
  worstSecond: number;
  /** Seconds outside 2 % with the driver's send lag over 10 ms at one of their edges (the machine stalled it). */
  missedInStall: number;
  sent: number;
  planned: number;
  dropped: number;
  /** The driver's send lag (actual send − intended), p99 and max, ms. */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
}

/**
 * A ramping load (k6's ramping-arrival-rate) against a target in its own process: requests the
 * target received in each second of the schedule vs the integral of the rate over that second.
 */
export async function rampFollowing(startPerSec: number, stages: RampStage[], connections: number): Promise<RampFollowing> {
  const target = await startRampTarget();
  try {
    const clock = new SystemClock();
    const epochAtClockZero = performance.timeOrigin + performance.now() - clock.now();
    const durationMs = stages.reduce((sum, s) => sum + s.overMs, 0);
    const recorder = new TimelineRecorder({ phases: [{ phase: 'baseline', startMs: 0, endMs: durationMs + 1000 }], sloLatencyMs: 500, maxLatencyMs: 20_000 });
    const plan: LoadPlan = { model: 'ramping', startRatePerSec: startPerSec, stages, connections, maxInFlight: 100_000, timeoutMs: 2_000, workload: taskApiWorkload([{ op: 'get', weight: 1 }]), seed: 1 };
    const lags: number[] = [];
    const edgeLag = new Map<number, number>();
    let t0 = Number.NaN;
    const curve = new RampCurve(startPerSec, stages);
    const firstDue = curve.timeOf(1);
    const observer = {
      sendLag: (intendedMs: number, actualMs: number): void => {
        if (Number.isNaN(t0)) t0 = intendedMs - firstDue;
        lags.push(actualMs - intendedMs);
        // The worst lag of the arrivals due in the last 50 ms before each second's edge.
        const edge = Math.ceil((intendedMs - t0) / 1000);
        if ((intendedMs - t0) > edge * 1000 - 50) edgeLag.set(edge, Math.max(edgeLag.get(edge) ?? 0, actualMs - intendedMs));
      },
    };
    const ids = Array.from({ length: 1000 }, (_, i) => String(i + 1));
    const run = createLoadDriver(plan, clock, observer).start({ url: target.url, pools: new Map([['taskIds', ids]]) }, recorder, new AbortController().signal);
    const stopAfter = setTimeout(() => run.stop(), durationMs + 30_000); // ends by itself with its last stage; a bound all the same
    const summary = await run.done;
    clearTimeout(stopAfter);
    const received = await target.received();
    const seconds = Math.ceil(durationMs / 1000);
    const counts = new Array<number>(seconds).fill(0);
    for (const at of received) {
      const s = Math.floor((at - epochAtClockZero - t0) / 1000);
      if (s >= 0 && s < seconds) counts[s] = (counts[s] ?? 0) + 1;
    }
    // Stage starts, to skip the first second of each stage.
    const firstSeconds = new Set<number>();
    stages.reduce((at, s) => (firstSeconds.add(Math.floor(at / 1000)), at + s.overMs), 0);
    let judged = 0;
    let within = 0;
    let worstPct = 0;
    let worstSecond = -1;
    let missedInStall = 0;
    counts.forEach((n, s) => {
      const planned = curve.expected((s + 1) * 1000) - curve.expected(s * 1000);
      if (firstSeconds.has(s) || planned < 50) return;
      judged++;
      const pct = (Math.abs(n - planned) / planned) * 100;
      if (pct <= 2) within++;
      else if ((edgeLag.get(s) ?? 0) > 10 || (edgeLag.get(s + 1) ?? 0) > 10) missedInStall++;
      if (pct > worstPct) [worstPct, worstSecond] = [pct, s];
    });
    lags.sort((a, b) => a - b);
    return {
      judged,
      within,
      worstPct,
      worstSecond,
      missedInStall,
      sent: summary.sent,
      planned: Math.floor(curve.total),
      dropped: summary.dropped,
      sendLagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? Number.NaN,
      sendLagMaxMs: lags[lags.length - 1] ?? Number.NaN,
    };
  } finally {
    target.stop();
  }
}

function startRampTarget(): Promise<{ url: string; received(): Promise<number[]>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./ramp-target.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      const m = /"port":(\d+)/.exec(c.toString());
      if (!m) return;
      resolve({
        url: `http://127.0.0.1:${m[1]}`,
        received: () =>
          new Promise((res, rej) => {
            child.once('message', (msg) => res((msg as { received: number[] }).received));
            child.once('exit', (code) => rej(new Error(`ramp target exited ${code} before reporting`)));
            child.send('received');
          }),
        stop: () => child.kill('SIGTERM'),
      });
    });
    child.once('exit', (code) => reject(new Error(`ramp target exited ${code}`)));
  });
}
