import { formatMs } from '../core/duration.js';
import { eventsOf } from '../core/journal.js';
import { assessRpo, type RpoAssessment } from '../observe/rpo.js';
import type { CheckPlan, Plan } from '../scenario/plan.js';
import type { RunFacts } from './types.js';

type Value = { actual: number | null; detail?: string; notEvaluated?: string };

/** The drill metrics (see faults/kinds/disaster-recovery.ts and observe/rpo.ts). */
export const DRILL_METRICS = ['rto.restore', 'rpo.span', 'rpo.lostWrites', 'durability.lostOutsideRpo'] as const;
export type DrillMetric = (typeof DRILL_METRICS)[number];

export function isDrillMetric(metric: string): metric is DrillMetric {
  return (DRILL_METRICS as readonly string[]).includes(metric);
}

/**
 * rto.restore: disaster → every replica healthy again (the platform's view; rto.client with the
 * drill's fault is the clients' view). rpo.span: recovery point → last lost acknowledged write.
 * rpo.lostWrites: acknowledged writes the restore lost inside the drill's window (what the RPO
 * allows). durability.lostOutsideRpo: lost writes no RPO allows. The worst over the drills (or the one named).
 */
export function drillMetric(check: CheckPlan, plan: Plan, facts: RunFacts): Value {
  const drills = plan.faults.filter((f) => f.kind === 'disaster-recovery' && (!check.fault || f.name === check.fault)).map((f) => f.name);
  if (drills.length === 0) return { actual: null, detail: 'no disaster-recovery fault in scenario' };
  const notRun = eventsOf(facts.events, 'dr.not-run').find((e) => drills.includes(e.fault));
  if (notRun) return { actual: null, notEvaluated: `${notRun.fault}: ${notRun.detail.reason}` };
  if (check.metric === 'rto.restore') return restoreRto(drills, facts);
  if (!facts.durability) return { actual: null, detail: 'acknowledged writes were not verified in this run' };
  const report = assessRpo(facts.events, facts.durability);
  const mine = report.drills.filter((d) => drills.includes(d.fault));
  if (check.metric === 'durability.lostOutsideRpo') {
    const outside = mine[0]?.lostOutside ?? report.drills[0]?.lostOutside ?? [];
    const n = outside.length + report.unplaced;
    const examples = outside.slice(0, 3).map((l) => `${l.op} ${l.id} acknowledged at ${formatMs(l.atMs)}: ${l.reason}`);
    const unplaced = report.unplaced ? `; ${report.unplaced} lost writes not listed, counted here` : '';
    return { actual: n, detail: `${n} lost outside the drills' windows (before the backup or after the service was healthy again) of ${facts.durability.checked} checked${unplaced}${examples.length ? `: ${examples.join('; ')}` : ''}` };
  }
  const notes: string[] = [];
  const measured: RpoAssessment[] = [];
  for (const name of drills) {
    const d = mine.find((m) => m.fault === name);
    if (!d) notes.push(`${name}: no backup taken`);
    else if (d.window.disasterAtMs === null) notes.push(`${name}: no disaster (the drill was stopped before it)`);
    else {
      measured.push(d);
      const n = d.lostInWindow.length;
      const range = n > 0 ? `, acknowledged ${formatMs(Math.min(...d.lostInWindow.map((l) => l.atMs)) - d.window.backupAtMs)} to ${formatMs(d.spanMs)} after the backup` : '';
      notes.push(`${name}: ${n} acknowledged writes lost${range}; backup → disaster ${formatMs(d.exposureMs ?? 0)}`);
    }
  }
  const detail = notes.join('; ');
  if (measured.length < drills.length) return { actual: null, detail };
  if (check.metric === 'rpo.lostWrites') return { actual: measured.reduce((s, d) => s + d.lostInWindow.length, 0), detail };
  return { actual: Math.max(...measured.map((d) => d.spanMs)), detail };
}

function restoreRto(drills: string[], facts: RunFacts): Value {
  const values: number[] = [];
  const notes: string[] = [];
  for (const name of drills) {
    const healthy = eventsOf(facts.events, 'dr.service-healthy').find((e) => e.fault === name);
    if (healthy) {
      values.push(healthy.detail.rtoMs);
      notes.push(`${name}: ${formatMs(healthy.detail.rtoMs)} from the disaster to ${healthy.detail.replicas} replicas healthy`);
      continue;
    }
    const why =
      eventsOf(facts.events, 'dr.restore-failed').find((e) => e.fault === name)?.detail.error ??
      eventsOf(facts.events, 'dr.not-healthy').find((e) => e.fault === name)?.detail.reason ??
      eventsOf(facts.events, 'dr.interrupted').find((e) => e.fault === name)?.detail.reason ??
      (eventsOf(facts.events, 'dr.disaster').some((e) => e.fault === name) ? 'not healthy again' : 'no disaster');
    notes.push(`${name}: ${why}`);
  }
  const detail = notes.join('; ');
  return values.length < drills.length ? { actual: null, detail } : { actual: Math.max(...values), detail };
}
