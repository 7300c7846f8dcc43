/** What gameday keeps of a k6 run: k6's own verdict, journaled next to gameday's and never mixed with it. */
export interface K6RunResult {
  /** k6's exit code: 0 thresholds passed, 99 a threshold crossed, 105 interrupted (by gameday's stop). */
  exitCode: number | null;
  signal: string | null;
  /** True when gameday stopped k6 (the run's end, Ctrl-C, the abort guard) before it ended by itself. */
  stoppedByGameday: boolean;
  /** k6's thresholds from its summary export: source → crossed (true) or held (false), by metric. */
  thresholds: Record<string, Record<string, boolean>>;
  /** Outcomes whose `name` tag names no workload request (counted in the totals only), by name. */
  unnamed: Record<string, number>;
  /** Lines of the JSON output that could not be read, and the first of them. */
  badLines: number;
  firstBadLine?: string;
}

/** How a scenario runs k6 (spec.load.driver: k6). */
export interface K6Plan {
  /** The k6 executable (K6_BIN, else k6 on PATH), resolved when the scenario is planned. */
  bin: string;
  /** Absolute path of the team's script; absent: the scenario's workload exported (harness/k6/export.ts). */
  script?: string;
  /** For the exported workload: the scenario's name and duration (k6's scenario lasts as long). */
  name: string;
  durationMs: number;
}
