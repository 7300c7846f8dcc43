import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { RESULT_SCHEMA_VERSION, type ResultDocument } from './result.js';

const REQUIRED = ['scenario', 'checks', 'timeline', 'phases', 'journal', 'hdr', 'latencyDistribution', 'regression'] as const;

function bad(file: string, path: string, expected: string, found: string): InputError {
  return new InputError([{ file, path, expected, found }]);
}

/** Reads a result.json written by this version of gameday; anything else is an input error (exit 2). */
export async function readResult(file: string): Promise<ResultDocument> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw bad(file, '', 'a readable result.json', (err as NodeJS.ErrnoException).code ?? 'invalid JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad(file, '', 'a result.json object', typeof doc);
  const d = doc as Partial<ResultDocument>;
  if (d.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw bad(file, 'schemaVersion', `${RESULT_SCHEMA_VERSION} (re-run the Game Day with this gameday)`, String(d.schemaVersion));
  }
  const missing = REQUIRED.filter((k) => d[k] === undefined);
  if (missing.length) throw bad(file, missing.join(', '), 'present', 'nothing');
  return d as ResultDocument;
}
