/**
 * Bounds on scenario input, one table (README.md, "Scenarios", says them too). Whatever a file
 * holds, reading and validating it stays fast and small, and a valid plan cannot ask for a run
 * that never ends, a probe that spins, or a fault too short to observe.
 */

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** Reading: larger files, deeper nesting, or more alias expansion are refused before validation. */
export const FILE_LIMITS = {
  /** Shipped scenarios are under 3 KiB. The YAML parser needs up to ~5 µs per byte on hostile input (deep nesting, an error per line: 12 s for 1 MiB), so this bounds validation to well under a second. */
  maxBytes: 64 * 1024,
  /** Mapping/sequence nesting (a scenario needs 6). */
  maxDepth: 32,
  /** The yaml library's `maxAliasCount`: bounds how far anchors/aliases may expand (alias bombs). */
  maxAliasCount: 100,
  /** Problems listed per file; the rest are counted. */
  maxProblems: 100,
} as const;

/** Inclusive bounds of every duration field, in ms. */
export const DURATION_BOUNDS = {
  /** spec.duration: a run of at least a second; beyond `runDefaultMaxMs` only with spec.limits.duration. */
  run: { min: 1 * S, max: 24 * H },
  warmup: { min: 0, max: 24 * H },
  probeInitialDelay: { min: 0, max: 10 * M },
  /** A probe period of 0 would poll without pause. */
  probePeriod: { min: 100, max: 5 * M },
  probeTimeout: { min: 50, max: 1 * M },
  /** 0 would mean "wait forever" to node-postgres and PostgreSQL. */
  poolTimeout: { min: 10, max: 5 * M },
  terminationGracePeriod: { min: 0, max: 5 * M },
  requestTimeout: { min: 10, max: 5 * M },
  /** A ramping load's stage (spec.load.stages[].over); 0 jumps to the stage's rate, as in k6. */
  rampStage: { min: 0, max: 24 * H },
  faultAt: { min: 0, max: 24 * H },
  /** A fault shorter than a timeline second cannot be observed as a phase of its own. */
  faultDuration: { min: 1 * S, max: 24 * H },
  networkLatency: { min: 0, max: 1 * M },
  /** exec and http faults: each command or request is bounded (the process group is killed at its timeout). */
  faultActionTimeout: { min: 100, max: 5 * M },
  slo: { min: 1, max: 1 * M },
  /** Recovery is judged on whole seconds of the timeline. */
  recoveryWindow: { min: 1 * S, max: 1 * H },
  recoverySustain: { min: 1 * S, max: 1 * H },
  regressionAbsolute: { min: 0, max: 1 * H },
  abortFor: { min: 1 * S, max: 24 * H },
  resourceSustain: { min: 1 * S, max: 1 * H },
} as const satisfies Record<string, { min: number; max: number }>;

/**
 * What a scenario may ask for without saying so explicitly. A longer run or a higher arrival rate
 * needs `spec.limits` (duration, rate) in the scenario itself, up to the hard bounds above: a typo
 * such as `10000000h` or `rate: 1000000` then fails validation instead of starting a run.
 */
export const DEFAULT_RUN_LIMITS = {
  durationMs: 1 * H,
  ratePerSec: 10_000,
} as const;

/** The hard ceiling of `spec.load.rate` (and a ramp's rates) and `spec.limits.rate`, arrivals per second. */
export const MAX_RATE = 1_000_000;

/** Stages of a ramping load (spec.load.stages). */
export const MAX_RAMP_STAGES = 100;
