import { eventsOf, type JournalEvent } from '../core/journal.js';
import type { LostWrite } from './durability.js';

/**
 * The RPO of a disaster-recovery drill, as data (pure): which acknowledged writes the restore
 * lost, and the time they cover. A drill's window runs from its backup's start (the recovery
 * point: the dump's snapshot is taken after it) to the service being healthy again. A write
 * acknowledged inside the window and lost is the loss the RPO allows; one acknowledged before the
 * backup (the backup must hold it) or once the service is healthy again (the restored database
 * took it) and lost is a failure, whatever the RPO.
 */

export interface DrillWindow {
  fault: string;
  /** The recovery point: the backup began (run clock). */
  backupAtMs: number;
  disasterAtMs: number | null;
  /** The service healthy again (null: never within the drill). */
  healthyAtMs: number | null;
}

export interface RpoAssessment {
  fault: string;
  window: DrillWindow;
  /** Lost writes acknowledged inside the window: the data the drill lost. */
  lostInWindow: LostWrite[];
  /** Lost writes the RPO does not allow (acknowledged before the backup or after the service was healthy again). */
  lostOutside: LostWrite[];
  /** From the recovery point to the last lost write's acknowledgement (0 when nothing was lost). */
  spanMs: number;
  /** From the recovery point to the disaster: the most a loss could have covered. */
  exposureMs: number | null;
}

export interface RpoReport {
  drills: RpoAssessment[];
  /** Lost writes counted but not listed (the durability report's list is capped): they cannot be placed, so they count as outside. */
  unplaced: number;
}

/** Each drill's window, from the journal (in the order the drills ran). */
export function drillWindows(events: readonly JournalEvent[]): DrillWindow[] {
  const first = (type: 'dr.disaster' | 'dr.service-healthy', fault: string): number | null => eventsOf(events, type).find((e) => e.fault === fault)?.atMs ?? null;
  return eventsOf(events, 'dr.backup-started').map((b) => ({
    fault: b.fault,
    backupAtMs: b.atMs,
    disasterAtMs: first('dr.disaster', b.fault),
    healthyAtMs: first('dr.service-healthy', b.fault),
  }));
}

/** Places every listed lost write in a drill's window or outside all of them. */
export function assessRpo(events: readonly JournalEvent[], durability: { lostTotal: number; lost?: readonly LostWrite[] }): RpoReport {
  const windows = drillWindows(events);
  const lost = durability.lost ?? [];
  const inside = (w: DrillWindow, l: LostWrite): boolean => w.disasterAtMs !== null && l.atMs >= w.backupAtMs && l.atMs <= (w.healthyAtMs ?? Infinity);
  const outside = lost.filter((l) => !windows.some((w) => inside(w, l)));
  const drills = windows.map((w): RpoAssessment => {
    const mine = lost.filter((l) => inside(w, l));
    const last = mine.reduce((m, l) => Math.max(m, l.atMs), w.backupAtMs);
    return {
      fault: w.fault,
      window: w,
      lostInWindow: mine,
      // Outside losses are the run's, not one drill's: each drill reports them all.
      lostOutside: outside,
      spanMs: Math.round(last - w.backupAtMs),
      exposureMs: w.disasterAtMs === null ? null : Math.round(w.disasterAtMs - w.backupAtMs),
    };
  });
  return { drills, unplaced: Math.max(0, durability.lostTotal - lost.length) };
}
