import { readFile, writeFile } from 'node:fs/promises';
import pg from 'pg';

/**
 * The seed's pre-backup hook (`psql -c "CHECKPOINT;"`, then `pg_dump > backup.sql`) and its
 * restore, for the embedded server. Its package ships no pg_dump, and a system pg_dump older
 * than the server refuses to dump it, so the dump is taken the way pg_dump takes one: every read
 * in one REPEATABLE READ READ ONLY transaction (one snapshot: a write is in the dump or not, never
 * half), written as a plain SQL script. It covers what an application schema in `public` is made
 * of: tables (column types, defaults, identity and generated columns, NOT NULL), constraints,
 * indexes, sequences and their positions, and the rows. Not covered (not used by the apps the
 * local platform runs): views, functions, triggers, other schemas, extensions.
 */

export interface DumpSummary {
  file: string;
  bytes: number;
  tables: number;
  rows: number;
  /** How long CHECKPOINT took, and the whole backup. */
  checkpointMs: number;
  ms: number;
}

export interface RestoreSummary {
  tables: number;
  rows: number;
  ms: number;
}

interface Column {
  name: string;
  type: string;
  notnull: boolean;
  identity: '' | 'a' | 'd';
  generated: '' | 's' | 'v';
  def: string | null;
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** Rows per INSERT statement of the script. */
const ROWS_PER_INSERT = 1000;
const HEADER = '-- gameday logical dump (CHECKPOINT, then one REPEATABLE READ snapshot)\n';

function client(url: string, timeoutMs: number): pg.Client {
  const c = new pg.Client({ connectionString: url, application_name: 'gameday-backup', connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
  c.on('error', () => undefined);
  return c;
}

/** CHECKPOINT, then the dump of schema public to `file` (written only once complete). */
export async function dumpDatabase(url: string, file: string, timeoutMs = 60_000): Promise<DumpSummary> {
  const t0 = performance.now();
  const c = client(url, timeoutMs);
  await c.connect();
  try {
    await c.query('CHECKPOINT');
    const checkpointMs = Math.round(performance.now() - t0);
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const out: string[] = [HEADER, 'BEGIN;\n'];
    const after: string[] = [];
    const seqs = await c.query<{ name: string; last: string | null; identity: boolean }>(
      `SELECT s.sequencename AS name, s.last_value::text AS last,
              EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass AND d.deptype = 'i') AS identity
       FROM pg_sequences s WHERE s.schemaname = 'public' ORDER BY 1`,
    );
    const tables = await c.query<{ oid: number; name: string }>(
      `SELECT c.oid::int AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2`,
    );
    // An app replica starting while the restore runs may create its (empty) schema first: the dump's wins.
    for (const t of tables.rows) out.push(`DROP TABLE IF EXISTS public.${ident(t.name)} CASCADE;\n`);
    for (const s of seqs.rows) if (!s.identity) out.push(`DROP SEQUENCE IF EXISTS public.${ident(s.name)} CASCADE;\nCREATE SEQUENCE public.${ident(s.name)};\n`);
    let rows = 0;
    for (const t of tables.rows) {
      const table = `public.${ident(t.name)}`;
      const cols = await c.query<Column>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
                a.attidentity AS identity, a.attgenerated AS generated, pg_get_expr(d.adbin, d.adrelid) AS def
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [t.oid],
      );
      const cons = await c.query<{ name: string; def: string; type: string }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS def, contype::text AS type FROM pg_constraint
         WHERE conrelid = $1 AND contype IN ('p', 'u', 'c', 'x', 'f') ORDER BY (contype = 'p') DESC, conname`,
        [t.oid],
      );
      const lines = cols.rows.map(columnDef);
      for (const k of cons.rows) {
        const line = `CONSTRAINT ${ident(k.name)} ${k.def}`;
        if (k.type === 'f') after.push(`ALTER TABLE ${table} ADD ${line};\n`);
        else lines.push(line);
      }
      out.push(`CREATE TABLE ${table} (\n  ${lines.join(',\n  ')}\n);\n`);
      const stored = cols.rows.filter((col) => col.generated === '').map((col) => ident(col.name));
      const data = await c.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM ${table} t`);
      rows += data.rows.length;
      for (let i = 0; i < data.rows.length; i += ROWS_PER_INSERT) {
        const json = `[${data.rows
          .slice(i, i + ROWS_PER_INSERT)
          .map((r) => r.r)
          .join(',')}]`;
        const list = stored.join(', ');
        out.push(`INSERT INTO ${table} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM json_populate_recordset(NULL::${table}, ${dollarQuote(json)});\n`);
      }
      const indexes = await c.query<{ def: string }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
         WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1`,
        [t.oid],
      );
      for (const ix of indexes.rows) after.push(`${ix.def};\n`);
    }
    for (const s of seqs.rows) if (s.last !== null) after.push(`SELECT setval('public.${ident(s.name).replaceAll("'", "''")}', ${Number(s.last)}, true);\n`);
    await c.query('COMMIT');
    out.push(...after, 'COMMIT;\n');
    const text = out.join('');
    await writeFile(file, text, { mode: 0o600 });
    return { file, bytes: Buffer.byteLength(text), tables: tables.rows.length, rows, checkpointMs, ms: Math.round(performance.now() - t0) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Runs a dump script against an empty database (one transaction: all of it or nothing). */
export async function restoreDump(url: string, file: string, timeoutMs = 120_000): Promise<RestoreSummary> {
  const t0 = performance.now();
  const text = await readFile(file, 'utf8');
  if (!text.startsWith(HEADER)) throw new Error(`${file} is not a gameday dump`);
  const c = client(url, timeoutMs);
  await c.connect();
  try {
    await c.query(text);
    const counts = await c.query<{ tables: number }>(`SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public'`);
    const tables = counts.rows[0]?.tables ?? 0;
    let rows = 0;
    const names = await c.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
    for (const n of names.rows) rows += (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${ident(n.name)}`)).rows[0]?.n ?? 0;
    return { tables, rows, ms: Math.round(performance.now() - t0) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

function columnDef(col: Column): string {
  const parts = [ident(col.name), col.type];
  if (col.identity) parts.push(`GENERATED ${col.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`);
  else if (col.generated === 's' && col.def) parts.push(`GENERATED ALWAYS AS (${col.def}) STORED`);
  else if (col.generated === 'v' && col.def) parts.push(`GENERATED ALWAYS AS (${col.def}) VIRTUAL`);
  else if (col.def !== null) parts.push(`DEFAULT ${col.def}`);
  if (col.notnull) parts.push('NOT NULL');
  return parts.join(' ');
}

/** A dollar-quoted literal whose tag does not occur in the text. */
function dollarQuote(text: string): string {
  let n = 0;
  while (text.includes(`$d${n}$`)) n++;
  return `$d${n}$${text}$d${n}$`;
}
