import type { JournalEvent } from '../core/journal.js';
import type { DurabilityReport } from '../observe/durability.js';
import type { ResourceSeries } from '../observe/series.js';
import type { RunAnalysis } from '../report/result.js';
import type { Plan } from '../scenario/plan.js';
import { detectDisruptions, type TimelineData } from '../timeline/index.js';
import { analyzeResourceRecovery, type Tolerance } from '../timeline/resource-recovery.js';
import { evaluate, measureFaultRtos, type FaultResources, type RunFacts } from '../verdict/index.js';
import type { LagSecond, LagSummary } from './lag-monitor.js';
import { formatMs } from '../core/duration.js';

/** The load generator's own lag (see LagMonitor): what it measured and which spans it may explain. */
export interface HarnessLagView {
  seconds(): LagSecond[];
  summary(): LagSummary;
  overlapsStall(startMs: number, endMs: number): boolean;
}

export interface Observations {
  aborted?: boolean;
  lag?: HarnessLagView;
  series?: ResourceSeries[];
  durability?: DurabilityReport;
  /** promql checks' values (see RunFacts.promql). */
  promql?: ReadonlyMap<string, { actual: number | null; detail?: string }>;
  /** Conformance findings (see RunFacts.conformance). */
  conformance?: RunFacts['conformance'];
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
    ...(seen.promql ? { promql: seen.promql } : {}),
    ...(seen.conformance ? { conformance: seen.conformance } : {}),
  });
  const disruptions = detectDisruptions(timeline, plan.slo);
  const lag = seen.lag;
  const caveats: string[] = [];
  if (lag) {
    // A disruption or RTO that coincides with the harness's own stall may be the harness's doing.
    for (const d of disruptions) if (lag.overlapsStall(d.startMs, d.endMs)) d.harnessStall = true;
    for (const r of rtos) {
      const c = r.client;
      if (c.recoveredAtMs !== null && c.recoveredAtMs > r.atMs && lag.overlapsStall(r.atMs, c.recoveredAtMs)) c.harnessStall = true;
    }
    const summary = lag.summary();
    if (summary.stalledSeconds.length > 0) {
      const flagged = [
        ...disruptions.filter((d) => d.harnessStall).map((d) => `the disruption at ${formatMs(d.startMs)}`),
        ...rtos.filter((r) => r.client.harnessStall).map((r) => `the client RTO of ${r.fault}`),
      ];
      caveats.push(
        `the harness itself stalled (event-loop delay or send lag over ${summary.thresholdMs} ms) in ${summary.stalledSeconds.length} second(s): ` +
          `${summary.stalledSeconds.slice(0, 10).join(', ')}${summary.stalledSeconds.length > 10 ? ', …' : ''} (worst loop delay ${formatMs(summary.loopDelayMaxMs)})` +
          (flagged.length ? `; ${flagged.join(' and ')} coincide with it and may be the harness's own` : ''),
      );
    }
  }
  return {
    timeline,
    events,
    disruptions,
    rtos,
    verdict,
    ...(lag ? { harnessLag: { ...lag.summary(), seconds: lag.seconds() } } : {}),
    ...(caveats.length ? { caveats } : {}),
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
