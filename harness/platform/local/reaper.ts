import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../../core/paths.js';
import type { ReaperCommand } from './reaper-protocol.js';

const ENTRY = fileURLToPath(new URL('./reaper-main.ts', import.meta.url));

/**
 * The harness side of the reaper: tell it what to clean up should the harness die, and release it
 * once the harness has cleaned up itself. It never keeps the harness alive.
 */
export class Reaper {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    this.child.unref();
    this.child.channel?.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
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

  private send(cmd: ReaperCommand): void {
    if (this.child.connected) this.child.send(cmd);
  }
}
