import type { JournalEvent } from '../core/journal.js';
import type { RunAnalysis } from '../report/result.js';
import type { Plan } from '../scenario/plan.js';
import { detectDisruptions, type TimelineData } from '../timeline/index.js';
import { evaluate, measureFaultRtos } from '../verdict/index.js';

/** From what was recorded to what it means: disruptions, RTOs, and the verdict. */
export function analyse(plan: Plan, timeline: TimelineData, events: JournalEvent[], aborted = false): RunAnalysis {
  const rtos = measureFaultRtos(plan, timeline, events);
  const verdict = evaluate(plan, { timeline, events, rtos, aborted });
  return { timeline, events, disruptions: detectDisruptions(timeline, plan.slo), rtos, verdict };
}
