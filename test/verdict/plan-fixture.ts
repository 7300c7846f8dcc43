import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { CheckPlan, FaultPlan, Plan } from '../../harness/scenario/plan.js';
import { phasesOf } from '../timeline/synthetic.js';

export function check(partial: Partial<CheckPlan> & Pick<CheckPlan, 'metric' | 'comparator' | 'threshold'>): CheckPlan {
  return { id: `C-${partial.metric}`, name: partial.metric, during: ['fault', 'recovery'], targetText: `${partial.comparator} ${partial.threshold}`, ...partial };
}

export function podKill(name: string, atMs: number, durationMs = 5_000): FaultPlan {
  return { kind: 'pod-kill', name, atMs, durationMs, mode: 'one' };
}

/** A 60 s plan with 5 s warm-up, SLO 500 ms, recovery window 10 s, sustain 3 s. */
export function planWith(checks: CheckPlan[], faults: FaultPlan[] = [podKill('kill', 20_000)]): Plan {
  return {
    name: 'fixture',
    durationMs: 60_000,
    warmupMs: 5_000,
    platform: { kind: 'external', url: 'http://127.0.0.1:1' },
    load: { model: 'open', ratePerSec: 500, connections: 8, maxInFlight: 100, timeoutMs: 5_000, workload: taskApiWorkload([{ op: 'get', weight: 1 }]), seed: 1 },
    faults,
    slo: { latencyP95Ms: 500 },
    recovery: { windowMs: 10_000, sustainMs: 3_000 },
    resources: { sustainMs: 3_000 },
    checks,
    phases: phasesOf(60_000, 5_000, faults, 10_000),
  };
}
