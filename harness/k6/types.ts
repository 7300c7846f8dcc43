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
  /** A k6 operator run: the runner pods asked for and seen, and what Prometheus held of them. */
  operator?: K6OperatorResult;
}

/** What a k6 operator run reports (journal k6.operator.totals, the report's caveat). */
export interface K6OperatorResult {
  testRun: string;
  parallelism: number;
  /** Runner pods the operator created. */
  runnerPods: number;
  /** Runners whose samples reached Prometheus (distinct instance_id). */
  runnersReporting: number;
  /** The runners' remote-write push interval: the time resolution of the judged timeline. */
  pushIntervalMs: number;
  /** The TestRun's last stage (finished, or where it was when gameday deleted it). */
  lastStage: string;
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
  /**
   * spec.load.parallelism / --parallelism: k6 runs on the cluster through the k6 operator (a TestRun
   * with this many runner pods, harness/load/k6-operator-driver.ts), judged from Prometheus; no local
   * k6 executable is needed then (`bin` is unused).
   */
  operator?: { parallelism: number };
}
