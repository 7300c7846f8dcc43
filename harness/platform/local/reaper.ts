import { spawn, type ChildProcess } from 'node:child_process';
import { HarnessError } from '../../core/errors.js';
import { PROJECT_ROOT, harnessEntry } from '../../core/paths.js';
import type { ReaperCommand, ReaperReady } from './reaper-protocol.js';

const ENTRY = harnessEntry('./reaper-main', import.meta.url);
const READY_TIMEOUT_MS = 15_000;

/**
 * What must go if the harness dies. Every resource is registered before it exists (a path before
 * it is created) or the instant it does (a process right after spawn, before any await), so no
 * SIGKILL of the harness falls between a resource and its registration.
 */
export interface Reaping {
  /** Signal this process group, then SIGKILL it after a grace period. */
  watchGroup(pid: number, signal: NodeJS.Signals): void;
  /** Remove this path (recursively), after every watched group has gone. */
  watchPath(path: string): void;
  forget(resource: { pid?: number; path?: string }): void;
}

/**
 * The harness side of the reaper: tell it what to clean up should the harness die, and release it
 * once the harness has cleaned up itself. It never keeps the harness alive.
 */
export class Reaper implements Reaping {
  private constructor(private readonly child: ChildProcess) {}

  /**
   * Starts the reaper and resolves once it listens: a command sent earlier could be lost, so
   * nothing the reaper should know about may be created before this resolves.
   */
  static start(timeoutMs = READY_TIMEOUT_MS): Promise<Reaper> {
    const child = spawn(process.execPath, ENTRY.args, {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    child.unref();
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new HarnessError(`the reaper did not start: ${why}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${timeoutMs}ms`), timeoutMs);
      child.once('error', (err) => fail(err.message));
      child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
      child.once('message', (msg: ReaperReady) => {
        if (msg.event !== 'ready') return fail(`unexpected message ${JSON.stringify(msg)}`);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.channel?.unref();
        resolve(new Reaper(child));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still listening: what is registered now is reaped should the harness die. */
  get alive(): boolean {
    return this.child.connected;
  }

  watchGroup(pid: number, signal: NodeJS.Signals): void {
    this.send({ op: 'watch-group', pid, signal });
  }

  watchPath(path: string): void {
    this.send({ op: 'watch-path', path });
  }

  forget(resource: { pid?: number; path?: string }): void {
    this.send({ op: 'forget', ...resource });
  }

  /** Teardown is complete: the reaper exits without touching anything. */
  release(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.child.connected) return resolve();
      // Hold the loop open until the message is written, then close the channel.
      this.child.channel?.ref();
      this.child.send({ op: 'release' } satisfies ReaperCommand, () => {
        if (this.child.connected) this.child.disconnect();
        resolve();
      });
    });
  }

  // On a connected channel, send() writes to the socket before it returns (libuv writes at once
  // when nothing is queued), so a registration survives a SIGKILL of the harness right after it.
  private send(cmd: ReaperCommand): void {
    if (this.child.connected) this.child.send(cmd);
  }
}
