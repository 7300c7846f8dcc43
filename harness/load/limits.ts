/**
 * Bounds every load run obeys whatever the caller does. A run is normally stopped by the runner;
 * these only make sure nothing runs or waits forever.
 */

/** A run that is never stopped ends by itself after this long. */
export const MAX_RUN_MS = 25 * 60 * 60 * 1000; // above the longest run a scenario may ask for (24 h with spec.limits)

/**
 * After `stop()`, requests in flight get their timeout plus this margin to finish; whatever is
 * still outstanding then is reported as a timeout (it has been outstanding longer than the timeout).
 */
export const DRAIN_MARGIN_MS = 1_000;
