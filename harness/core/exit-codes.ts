/** Every way the CLI can end, one table (as k6's errext/exitcodes). Only the CLI entry exits. */
export const ExitCode = {
  /** The spec held. */
  Passed: 0,
  /** The spec failed (or the run was aborted by its guard). */
  SpecFailed: 1,
  /** The regression gate found a regression against the baseline (same code as a failed spec). */
  Regressed: 1,
  /** Invalid input or usage; nothing was started. */
  InvalidInput: 2,
  /** The harness or its environment failed. */
  HarnessError: 3,
  /** Interrupted by SIGINT/SIGTERM, after cleanup. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
