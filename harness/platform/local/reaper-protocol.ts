/** Messages from the harness to its reaper. */
export type ReaperCommand =
  /** Kill this process group (and wait for it) if the harness dies. */
  | { op: 'watch-group'; pid: number; signal: NodeJS.Signals }
  /** Remove this path if the harness dies. */
  | { op: 'watch-path'; path: string }
  /** Forget a resource the harness cleaned up itself. */
  | { op: 'forget'; pid?: number; path?: string }
  /** The harness finished its own teardown: exit without doing anything. */
  | { op: 'release' };

/** The reaper's one message to the harness: its handlers are installed, commands from now on are kept. */
export interface ReaperReady {
  event: 'ready';
}
