/**
 * The reaper: a small process outside the harness's process group that outlives it. If the harness
 * dies without tearing down (SIGKILL, a crash, an OOM kill), the IPC channel closes and the reaper
 * stops what the harness started — the database server's process group, then temp paths — and exits.
 * Replicas and the Service need no reaper: they exit themselves when their IPC channel closes.
 */
import { rmSync } from 'node:fs';
import type { ReaperCommand, ReaperReady } from './reaper-protocol.js';

const GRACE_MS = 5000;
const groups = new Map<number, NodeJS.Signals>();
const paths = new Set<string>();
let released = false;

process.on('message', (cmd: ReaperCommand) => {
  switch (cmd.op) {
    case 'watch-group':
      groups.set(cmd.pid, cmd.signal);
      break;
    case 'watch-path':
      paths.add(cmd.path);
      break;
    case 'forget':
      if (cmd.pid !== undefined) groups.delete(cmd.pid);
      if (cmd.path !== undefined) paths.delete(cmd.path);
      break;
    case 'release':
      released = true;
      process.exit(0);
  }
});

process.on('disconnect', () => {
  if (!released) void reap();
});
// Terminal signals aimed at the harness's group never reach here (own session); ignore strays.
process.on('SIGINT', () => undefined);
// Messages and the disconnect that arrive before a listener exists are dropped, so the harness
// sends nothing, and creates nothing, before this. A harness that died meanwhile left nothing to reap.
if (process.connected) process.send?.({ event: 'ready' } satisfies ReaperReady);
else process.exit(0);

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function reap(): Promise<void> {
  for (const [pid, signal] of groups) signalGroup(pid, signal);
  const deadline = Date.now() + GRACE_MS;
  while ([...groups.keys()].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of groups.keys()) if (alive(pid)) signalGroup(pid, 'SIGKILL');
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  process.exit(0);
}
