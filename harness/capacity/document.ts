import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import type { Forecast } from './forecast.js';
import type { CapacitySlo, JudgedStep } from './judge.js';
import type { MassTermination } from './recovery.js';
import type { Knee } from './search.js';

export const CAPACITY_KIND = 'gameday.capacity';
export const CAPACITY_SCHEMA_VERSION = 1;

/** One knee search: every replica ("N"), one fewer ("N-1"), or a fault active throughout ("fault:<name>"). */
export interface CapacitySearch {
  name: string;
  /** Replicas deployed (null: a service gameday did not deploy). */
  replicas: number | null;
  fault?: string;
  knee: Knee;
  /** Peak − knee, when a peak is stated: positive is headroom. */
  headroom?: { peak: number; rate: number; ratio: number };
  steps: JudgedStep[];
}

/** Where the figures were measured: a 2-core laptop's knee is not production's. */
export interface MachineInfo {
  cpus: number;
  model: string;
  loadAverage: number[];
  /** Mean cores busy with other work, and with this command's process tree, over the command (Linux). */
  foreignCores?: number;
  ownCores?: number;
  node: string;
  note: string;
}

export interface CapacityDocument {
  kind: typeof CAPACITY_KIND;
  schemaVersion: typeof CAPACITY_SCHEMA_VERSION;
  scenario: { name: string; file?: string };
  status: 'completed' | 'interrupted' | 'error';
  error?: string;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  slo: CapacitySlo;
  peak?: number;
  tolerance: number;
  load: { connections: number; maxInFlight: number | 'per step'; timeoutMs: number; stepMs: number; settleMs: number };
  searches: CapacitySearch[];
  massTermination?: MassTermination;
  forecast?: Forecast;
}

export function isCapacityDocument(v: unknown): v is CapacityDocument {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === CAPACITY_KIND;
}

/** Reads a capacity.json, refusing anything else with a precise error (exit 2). */
export async function readCapacity(file: string): Promise<CapacityDocument> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new InputError([{ path: file, expected: 'a capacity.json written by gameday capacity', found: (err as NodeJS.ErrnoException).code ?? (err as Error).message }]);
  }
  if (!isCapacityDocument(doc)) throw new InputError([{ path: `${file}: kind`, expected: `"${CAPACITY_KIND}"`, found: JSON.stringify((doc as { kind?: unknown } | null)?.kind ?? null) }]);
  if (doc.schemaVersion !== CAPACITY_SCHEMA_VERSION) throw new InputError([{ path: `${file}: schemaVersion`, expected: String(CAPACITY_SCHEMA_VERSION), found: JSON.stringify(doc.schemaVersion) }]);
  if (!Array.isArray(doc.searches)) throw new InputError([{ path: `${file}: searches`, expected: 'an array', found: typeof doc.searches }]);
  return doc;
}
