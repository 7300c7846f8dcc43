import type { JournalEvent } from '../core/journal.js';
import type { DurabilityReport } from '../observe/durability.js';
import type { ResourceSeries } from '../observe/series.js';
import type { RunAnalysis } from '../report/result.js';
import type { Plan } from '../scenario/plan.js';
import { detectDisruptions, type TimelineData } from '../timeline/index.js';
import { analyzeResourceRecovery, type Tolerance } from '../timeline/resource-recovery.js';
import { evaluate, measureFaultRtos, type FaultResources } from '../verdict/index.js';

export interface Observations {
  aborted?: boolean;
  series?: ResourceSeries[];
  durability?: DurabilityReport;
}

/** From what was recorded to what it means: disruptions, RTOs, resource recovery, the verdict. */
export function analyse(plan: Plan, timeline: TimelineData, events: JournalEvent[], seen: Observations = {}): RunAnalysis {
  const rtos = measureFaultRtos(plan, timeline, events);
  const recovery = seen.series ? resourceRecovery(plan, seen.series) : undefined;
  const verdict = evaluate(plan, {
    timeline,
    events,
    rtos,
    aborted: seen.aborted ?? false,
    ...(recovery ? { resources: recovery } : {}),
    ...(seen.durability ? { durability: seen.durability } : {}),
  });
  return {
    timeline,
    events,
    disruptions: detectDisruptions(timeline, plan.slo),
    rtos,
    verdict,
    ...(seen.series && recovery ? { resources: { series: seen.series, recovery } } : {}),
    ...(seen.durability ? { durability: seen.durability } : {}),
  };
}

/** Each fault judged against the steady state before the first fault (the recovery baseline). */
function resourceRecovery(plan: Plan, series: ResourceSeries[]): FaultResources[] {
  const first = plan.faults[0];
  if (!first) return [];
  const t = plan.resources.tolerance;
  const tolerances: Record<string, Tolerance> | undefined = t
    ? Object.fromEntries([...new Set(series.map((s) => s.resource))].map((r) => [r, { abs: t.absolute, rel: t.relative }]))
    : undefined;
  return plan.faults.map((fault, i) => {
    const next = plan.faults[i + 1];
    const recoveries = analyzeResourceRecovery(series, {
      baselineStartMs: plan.warmupMs,
      baselineEndMs: first.atMs,
      faultAtMs: fault.atMs,
      faultEndMs: fault.atMs + fault.durationMs,
      // Not back before the next fault starts: not recovered from this one.
      ...(next ? { untilMs: next.atMs } : {}),
      sustainMs: plan.resources.sustainMs,
      ...(tolerances ? { tolerances } : {}),
    });
    return { fault: fault.name, recoveries };
  });
}
