import type { FaultPlan, PhaseSpan } from './plan.js';

/**
 * Lays the run out in phases: warm-up, baseline until the first fault, then for each fault its
 * fault window and recovery window, with `after` filling any gap and the tail.
 */
export function layoutPhases(durationMs: number, warmupMs: number, faults: readonly FaultPlan[], recoveryWindowMs: number): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  const push = (span: PhaseSpan): void => {
    if (span.endMs > span.startMs) spans.push(span);
  };
  push({ phase: 'warmup', startMs: 0, endMs: warmupMs });
  const first = faults[0];
  push({ phase: 'baseline', startMs: warmupMs, endMs: first ? first.atMs : durationMs });
  faults.forEach((fault, i) => {
    const faultEnd = fault.atMs + fault.durationMs;
    const nextAt = faults[i + 1]?.atMs ?? durationMs;
    const recoveryEnd = Math.min(faultEnd + recoveryWindowMs, nextAt);
    push({ phase: 'fault', startMs: fault.atMs, endMs: Math.min(faultEnd, nextAt), fault: fault.name });
    push({ phase: 'recovery', startMs: faultEnd, endMs: recoveryEnd, fault: fault.name });
    push({ phase: 'after', startMs: recoveryEnd, endMs: nextAt });
  });
  return spans;
}
