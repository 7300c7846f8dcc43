import type { LocalPlatformPlan } from '../../scenario/plan.js';
import { startEmbeddedPostgres, type Database } from './postgres.js';
import { Reaper } from './reaper.js';
import type { TaskApiImage } from './task-api.js';

/** What a local run started ahead of its deploy. */
export interface Ahead {
  reaper: Promise<Reaper>;
  /** The embedded database on that reaper, when the plan has one. */
  database?: Promise<Database>;
  /** The Task API's bundle, its directory known to that reaper (the reference Task API only). */
  image?: Promise<TaskApiImage>;
  /** Aborts the database's start (the run was interrupted). */
  abort: AbortController;
}

let ahead: Ahead | undefined;

/** Whether the plan's platform starts an embedded PostgreSQL (the Task API, or an app that asked for a database). */
export function wantsEmbeddedDatabase(plan: LocalPlatformPlan): boolean {
  return plan.database.kind === 'embedded' && (!plan.app || Boolean(plan.app.database));
}

/**
 * Starts a local run's slowest steps once its input is valid, while the run's own modules still
 * load (~0.3 s of CPU on one core): the reaper, then initdb and the server on it, and the Task
 * API's bundle (which the seed, started beside initdb, needs). A light module
 * (no platform, no load generator) so that they start first. The deploy takes them (takeAhead);
 * not taken, they go with the harness: its reaper stops them when the harness exits.
 */
export function startAhead(plan: LocalPlatformPlan): void {
  if (ahead) return;
  const abort = new AbortController();
  const reaper = Reaper.start();
  reaper.catch(() => undefined); // the deploy starts another
  const database = wantsEmbeddedDatabase(plan) ? reaper.then((r) => startEmbeddedPostgres(undefined, { reaping: r, signal: abort.signal })) : undefined;
  database?.catch(() => undefined); // the deploy awaits it
  // The bundle the seed and the replicas run (esbuild loads after the reaper's spawn, not before).
  const image = plan.app ? undefined : import('./task-api.js').then((m) => m.buildTaskApiImage(reaper));
  image?.catch(() => undefined); // the deploy awaits it
  ahead = { reaper, abort, ...(database ? { database } : {}), ...(image ? { image } : {}) };
}

/** What startAhead started, once: the next deploy owns it (and stops it should it not use it). */
export function takeAhead(): Ahead | undefined {
  const taken = ahead;
  ahead = undefined;
  return taken;
}

/** Stops what startAhead started and no deploy took (the run ended before its deploy). */
export async function discardAhead(): Promise<void> {
  const taken = takeAhead();
  if (!taken) return;
  taken.abort.abort();
  await taken.database?.then((d) => d.stop()).catch(() => undefined);
  await taken.image?.then((i) => i.remove()).catch(() => undefined);
  await taken.reaper.then((r) => r.release()).catch(() => undefined);
}
