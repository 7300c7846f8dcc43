import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../core/clock.js';
import { Reaper } from '../platform/local/reaper.js';
import { exportK6Script } from '../k6/export.js';
import { K6SampleFeed } from '../k6/samples.js';
import { summaryThresholds } from '../k6/summary.js';
import type { K6Plan, K6RunResult } from '../k6/types.js';
import type { LoadDriver, LoadPlan, LoadRun, LoadSummary, LoadTarget, ResponseSink } from './types.js';

/** How often the JSON output file is read while k6 runs. */
const TAIL_MS = 50;
/** After SIGINT, k6 gets this long (plus the request timeout) to write its outputs before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Exit codes of a k6 run that ended as a run: passed, a threshold crossed, interrupted (by us). */
const K6_THRESHOLDS_CROSSED = 99;
const K6_INTERRUPTED = 105;

export interface K6DriverOptions {
  /** The script's text when it is the scenario's workload exported (default: exported from the plan). */
  exportedScript?: string;
}

/**
 * gameday's load sent by k6: k6 runs the team's script (or the exported workload) against the
 * target (`BASE_URL` in its environment, `__ENV.BASE_URL` in the script), its `--out json` file is
 * read as it grows and every sample goes to the same sink as gameday's own drivers (K6SampleFeed).
 * `stop()` and the signal send k6 SIGINT (it writes its outputs and exits 105), SIGKILL after a
 * grace; a gameday that exits kills it too. `done` resolves with k6's exit code and thresholds in
 * `k6` (0, 99, or 105 after a stop), and rejects when k6 could not start or ended otherwise (a
 * crash, a script error): the run then has no load to judge.
 */
export function createK6Driver(plan: LoadPlan, k6: K6Plan, clock: Clock, options: K6DriverOptions = {}): LoadDriver {
  return {
    start(target: LoadTarget, sink: ResponseSink, signal: AbortSignal): LoadRun {
      return startK6(plan, k6, clock, options, target, sink, signal);
    },
  };
}

function startK6(plan: LoadPlan, k6: K6Plan, clock: Clock, options: K6DriverOptions, target: LoadTarget, sink: ResponseSink, signal: AbortSignal): LoadRun {
  // k6 opens its own connections: any opened ahead for gameday's open model are not used.
  target.warm?.close();
  const opsByName = new Map(plan.workload.requests.map((r, i) => [r.name, i]));
  const feed = new K6SampleFeed(sink, opsByName, clock.wallMs(0));
  let child: ChildProcess | undefined;
  let exited = false;
  let stoppedByGameday = false;
  let killTimer: NodeJS.Timeout | undefined;
  // k6 runs in its own process group: gameday alone decides when it stops (a terminal's Ctrl-C reaches gameday).
  const kill = (sig: NodeJS.Signals): void => {
    if (child?.pid !== undefined && !exited) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const stop = (): void => {
    if (exited || stoppedByGameday) return;
    stoppedByGameday = true;
    kill('SIGINT');
    killTimer = setTimeout(() => kill('SIGKILL'), STOP_GRACE_MS + plan.timeoutMs);
  };
  const onAbort = (): void => stop();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) stop();
  const killOnExit = (): void => kill('SIGKILL');
  process.once('exit', killOnExit);

  const runK6 = (dir: string, reaper: Reaper): Promise<LoadSummary> => {
    const outPath = join(dir, 'out.json');
    const summaryPath = join(dir, 'summary.json');
    let script = k6.script;
    if (script === undefined) {
      // The checks are gameday's to judge: the exported script carries no thresholds here.
      const exported = options.exportedScript ?? exportK6Script({ name: k6.name, durationMs: k6.durationMs, load: plan, checks: [], phases: [] }).script;
      script = join(dir, 'workload.js');
      writeFileSync(script, exported);
    }
    const proc = spawn(k6.bin, ['run', '--no-usage-report', '--quiet', '--out', `json=${outPath}`, `--summary-export=${summaryPath}`, script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BASE_URL: target.url, K6_NO_USAGE_REPORT: 'true' },
      cwd: dir,
      detached: true,
    });
    child = proc;
    // Registered before any await: no SIGKILL of gameday falls between k6's start and the reaper knowing it.
    if (proc.pid !== undefined) reaper.watchGroup(proc.pid, 'SIGINT');
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4096);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);

    // The JSON file is read from where the last read stopped; a UTF-8 sequence cut by a read waits in the decoder.
    let fd: number | undefined;
    let offset = 0;
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.alloc(1 << 20);
    const tail = (): void => {
      if (fd === undefined) {
        if (!existsSync(outPath)) return;
        fd = openSync(outPath, 'r');
      }
      for (let n = readSync(fd, buf, 0, buf.length, offset); n > 0; n = readSync(fd, buf, 0, buf.length, offset)) {
        offset += n;
        feed.push(decoder.write(buf.subarray(0, n)));
      }
    };
    const timer = setInterval(tail, TAIL_MS);

    return new Promise<LoadSummary>((resolvePromise, reject) => {
      let failedToStart: Error | undefined;
      proc.once('error', (err) => {
        failedToStart = new Error(`k6 driver: could not start ${k6.bin}: ${err.message}`);
      });
      proc.once('close', (code, sig) => {
        exited = true;
        clearInterval(timer);
        if (proc.pid !== undefined) reaper.forget({ pid: proc.pid });
        try {
          tail();
          feed.push(decoder.end());
          feed.end();
        } finally {
          if (fd !== undefined) closeSync(fd);
        }
        const thresholds = existsSync(summaryPath) ? summaryThresholds(readFileSync(summaryPath, 'utf8')) : {};
        if (failedToStart) return reject(failedToStart);
        const ranToEnd = code === 0 || code === K6_THRESHOLDS_CROSSED || (code === K6_INTERRUPTED && stoppedByGameday);
        if (!ranToEnd) {
          const how = code === null ? `was killed by ${String(sig)}` : `exited with code ${code}`;
          return reject(new Error(`k6 driver: k6 ${how} (expected 0, 99 or, once stopped, 105); its last output:\n${output.trim()}`));
        }
        const result: K6RunResult = {
          exitCode: code,
          signal: sig,
          stoppedByGameday,
          thresholds,
          unnamed: feed.counts.unnamed,
          badLines: feed.counts.badLines,
          ...(feed.firstBadLine !== undefined ? { firstBadLine: feed.firstBadLine } : {}),
        };
        const c = feed.counts;
        resolvePromise({ sent: c.completed, completed: c.completed, dropped: c.dropped, acknowledgedWrites: [], skipped: {}, k6: result });
      });
    });
  };
  const done = (async (): Promise<LoadSummary> => {
    // The reaper outlives a SIGKILL of gameday: it interrupts k6 and removes its files then.
    const reaper = await Reaper.start();
    const dir = mkdtempSync(join(tmpdir(), 'gameday-k6-'));
    reaper.watchPath(dir);
    try {
      if (stoppedByGameday) return { sent: 0, completed: 0, dropped: 0, acknowledgedWrites: [], skipped: {} };
      return await runK6(dir, reaper);
    } finally {
      clearTimeout(killTimer);
      process.removeListener('exit', killOnExit);
      signal.removeEventListener('abort', onAbort);
      rmSync(dir, { recursive: true, force: true });
      reaper.forget({ path: dir });
      await reaper.release();
    }
  })();

  return { done, stop };
}
