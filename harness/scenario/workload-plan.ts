import { openSync, closeSync, fstatSync, readSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { compilePointer } from '../load/json-pointer.js';
import { DEFAULT_TASK_API_MIX, TASK_API_PRESET, taskApiWorkload } from '../load/presets/task-api.js';
import { analyzeTemplate, type TemplateInfo } from '../load/template.js';
import type { MixEntry, OperationName } from '../load/types.js';
import { DEFAULT_POOL_CAPACITY, type PoolPlan, type RequestPlan, type WorkloadPlan } from '../load/workload-plan.js';
import type { ScenarioDocument, WorkloadDocument } from './schema.js';

type Report = (path: string, expected: string, found: string) => void;

/** A data file larger than this is refused (its values are held in memory for the run). */
export const MAX_DATA_FILE_BYTES = 16 * 1024 * 1024;

export interface WorkloadContext {
  /** The scenario file, for data files next to it. */
  file?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * The scenario's workload as a plan: its own requests and pools, or the Task API preset (the
 * default when it names none and runs the reference service). Every template is read here; every
 * problem is reported with its path.
 */
export function workloadPlan(doc: ScenarioDocument, ctx: WorkloadContext, problem: Report): WorkloadPlan {
  const w = doc.spec.workload;
  const mix = doc.spec.load.mix;
  if (w?.requests) {
    if (w.preset) problem('spec.workload.preset', 'either a preset or requests, not both', `preset ${w.preset} and ${w.requests.length} request(s)`);
    if (mix) problem('spec.load.mix', 'no mix with spec.workload.requests (give each request a weight)', Object.keys(mix).join(', '));
    return ownWorkload(w, ctx, problem);
  }
  if (w?.pools) problem('spec.workload.pools', 'pools only with spec.workload.requests', Object.keys(w.pools).join(', '));
  if (!w?.preset && (doc.spec.platform?.local as { app?: unknown } | undefined)?.app !== undefined) {
    problem('spec.workload', 'requests for the app (spec.workload.requests): the default workload is the reference Task API\'s', 'nothing');
  }
  const entries: MixEntry[] = mix
    ? Object.entries(mix).map(([op, weight]) => ({ op: op as OperationName, weight: weight ?? 0 }))
    : [...DEFAULT_TASK_API_MIX];
  return { ...taskApiWorkload(entries), preset: TASK_API_PRESET };
}

function ownWorkload(w: WorkloadDocument, ctx: WorkloadContext, problem: Report): WorkloadPlan {
  const requests = w.requests ?? [];
  const pools: PoolPlan[] = Object.entries(w.pools ?? {}).map(([name, p]) => poolPlan(name, p, ctx, problem));
  const defined = new Set(pools.map((p) => p.name));
  const filled = new Set(pools.filter((p) => p.discover || p.values).map((p) => p.name));
  const captured = new Set(requests.flatMap((r) => Object.keys(r.capture ?? {})));
  const names = new Set<string>();
  const plans: RequestPlan[] = requests.map((r, i) => {
    const at = `spec.workload.requests[${i}]`;
    if (names.has(r.name)) problem(`${at}.name`, 'a request name used once', `"${r.name}" again`);
    names.add(r.name);
    const used = (path: string, source: string): TemplateInfo | undefined => {
      const info = analyzeTemplate(source);
      if ('error' in info) {
        problem(path, info.error.expected, info.error.found);
        return undefined;
      }
      for (const env of info.envs) if (ctx.env[env] === undefined) problem(path, `environment variable ${env} to be set ({{env ${env}}})`, 'it unset');
      for (const pool of [...info.picks, ...info.takes]) {
        if (!defined.has(pool) && !captured.has(pool)) problem(path, `a pool defined in spec.workload.pools or filled by a capture (${[...new Set([...defined, ...captured])].join(', ') || 'none'})`, `"${pool}"`);
        else if (!filled.has(pool) && !captured.has(pool)) problem(path, `pool "${pool}" filled by discover, file, values or a capture`, 'a pool nothing fills');
      }
      return info;
    };
    used(`${at}.path`, r.path);
    if (!r.path.startsWith('/') && !r.path.startsWith('{{')) problem(`${at}.path`, 'a path starting with "/"', JSON.stringify(r.path.slice(0, 80)));
    for (const [k, v] of Object.entries(r.headers ?? {})) used(`${at}.headers.${k}`, v);
    if (r.body !== undefined) {
      used(`${at}.body`, r.body);
      if (r.method === 'GET' || r.method === 'HEAD') problem(`${at}.body`, `no body for ${r.method}`, 'a body');
    }
    const statuses = r.expect?.status;
    const noBody = r.method === 'HEAD' || (statuses !== undefined && statuses.every((s) => s === 204 || s === 304 || s < 200));
    for (const [pool, ptr] of Object.entries(r.capture ?? {})) {
      const p = compilePointer(ptr);
      if ('error' in p) problem(`${at}.capture.${pool}`, p.error, JSON.stringify(ptr));
      else if (noBody) problem(`${at}.capture.${pool}`, 'a capture from a response that has a body (not HEAD, not only 204/304)', `${r.method} expecting ${statuses?.join(', ') ?? 'any'}`);
    }
    if (r.write?.id !== undefined) {
      const p = compilePointer(r.write.id);
      if ('error' in p) problem(`${at}.write.id`, p.error, JSON.stringify(r.write.id));
    }
    if (r.write && r.write.op === 'create' && r.write.id === undefined) problem(`${at}.write.id`, 'the JSON Pointer of the created id in the response (e.g. "/id")', 'nothing');
    const fields = r.write ? readBackFields(r, at, noBody, problem) : undefined;
    return {
      name: r.name,
      weight: r.weight,
      method: r.method,
      path: r.path,
      headers: { ...(r.headers ?? {}) },
      ...(r.body !== undefined ? { body: r.body } : {}),
      ...(statuses ? { expect: [...statuses] } : {}),
      capture: { ...(r.capture ?? {}) },
      ...(r.write
        ? { write: { op: r.write.op, ...(r.write.id !== undefined ? { idPointer: r.write.id } : {}), ...(r.write.read !== undefined ? { read: r.write.read } : {}), ...(fields ? { fields } : {}) } }
        : {}),
    };
  });
  if (requests.length > 0 && requests.every((r) => r.weight <= 0)) problem('spec.workload.requests', 'at least one request with weight > 0', 'every weight 0');
  for (const pool of captured) if (!defined.has(pool)) pools.push({ name: pool, capacity: DEFAULT_POOL_CAPACITY });
  return { pools, requests: plans };
}

type RequestDocument = NonNullable<WorkloadDocument['requests']>[number];

/**
 * A write read back after the run (`write.read`, `write.fields`): the read path has `{id}` and is a
 * path, the fields are JSON Pointers (a bare name is the top-level field) compared with a response
 * that has a body, and its id and headers can be known again after the run. The fields as pointers.
 */
function readBackFields(r: RequestDocument, at: string, noBody: boolean, problem: Report): string[] | undefined {
  const w = r.write;
  if (!w) return undefined;
  if (w.read === undefined) {
    if (w.fields) problem(`${at}.write.read`, 'the path that reads the entity back (e.g. "/v1/items/{id}") with write.fields', 'nothing');
    return undefined;
  }
  if (!w.read.startsWith('/')) problem(`${at}.write.read`, 'a path starting with "/"', JSON.stringify(w.read.slice(0, 80)));
  if (!w.read.includes('{id}')) problem(`${at}.write.read`, 'a path with {id} where the entity\'s id goes (e.g. "/v1/items/{id}")', JSON.stringify(w.read.slice(0, 80)));
  if (w.op === 'delete' && w.fields) problem(`${at}.write.fields`, 'no fields on a delete (its entity must be gone: 404 or 410)', w.fields.join(', '));
  if (w.op !== 'delete' && noBody) {
    problem(`${at}.write`, 'a write read back from a request whose success has a body (not HEAD, not only 204/304): its id and fields come from it', `${r.method} expecting ${r.expect?.status.join(', ') ?? 'any'}`);
  }
  if (w.op !== 'create' && w.id === undefined) {
    const path = analyzeTemplate(r.path);
    if (!('error' in path) && path.picks.length + path.takes.length === 0) {
      problem(`${at}.write.id`, `the entity of an ${w.op}: a path that picks its id from a pool ({{pick pool}} or {{take pool}}), or write.id`, JSON.stringify(r.path.slice(0, 80)));
    }
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    const info = analyzeTemplate(v);
    if (!('error' in info) && info.picks.length + info.takes.length > 0) {
      problem(`${at}.headers.${k}`, 'no pick or take in the headers of a write read back (they are sent again to read it)', `{{${info.picks.length ? 'pick' : 'take'} …}}`);
    }
  }
  if (!w.fields) return w.op === 'delete' ? undefined : [];
  return w.fields.map((f, j) => {
    const ptr = f.startsWith('/') ? f : `/${f.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const c = compilePointer(ptr);
    if ('error' in c) problem(`${at}.write.fields[${j}]`, c.error, JSON.stringify(f));
    else if (c.wildcard) problem(`${at}.write.fields[${j}]`, 'a JSON Pointer to one field (no "*")', JSON.stringify(f));
    return ptr;
  });
}

function poolPlan(name: string, p: NonNullable<WorkloadDocument['pools']>[string], ctx: WorkloadContext, problem: Report): PoolPlan {
  const at = `spec.workload.pools.${name}`;
  const sources = [p.discover && 'discover', p.file && 'file', p.values && 'values'].filter(Boolean);
  if (sources.length > 1) problem(at, 'at most one of discover, file, values', sources.join(', '));
  if (p.column !== undefined && p.file === undefined) problem(`${at}.column`, 'a column only with file', p.column);
  const plan: PoolPlan = { name, capacity: p.capacity };
  if (p.discover) {
    const d = p.discover;
    for (const [key, ptr] of [['items', d.items], ['next', d.next]] as const) {
      if (ptr === undefined) continue;
      const c = compilePointer(ptr);
      if ('error' in c) problem(`${at}.discover.${key}`, c.error, JSON.stringify(ptr));
    }
    for (const [k, v] of Object.entries(d.headers ?? {})) {
      const info = analyzeTemplate(v);
      if ('error' in info) problem(`${at}.discover.headers.${k}`, info.error.expected, info.error.found);
      else {
        if (info.picks.length + info.takes.length > 0) problem(`${at}.discover.headers.${k}`, 'no pick or take (pools are filled after discovery)', `{{${info.picks.length ? 'pick' : 'take'} …}}`);
        for (const env of info.envs) if (ctx.env[env] === undefined) problem(`${at}.discover.headers.${k}`, `environment variable ${env} to be set ({{env ${env}}})`, 'it unset');
      }
    }
    plan.discover = { path: d.path, items: d.items, ...(d.next !== undefined ? { next: d.next } : {}), cursorParam: d.cursorParam, max: d.max, ...(d.headers ? { headers: { ...d.headers } } : {}) };
  }
  if (p.values) plan.values = [...p.values];
  if (p.file) {
    const values = readDataFile(p.file, p.column, ctx, `${at}.file`, problem);
    if (values) plan.values = values;
  }
  return plan;
}

/** Values of a CSV (header row; a column) or JSON (array of values, or of objects and a field) data file. */
function readDataFile(file: string, column: string | undefined, ctx: WorkloadContext, path: string, problem: Report): string[] | undefined {
  const full = resolve(ctx.file ? dirname(ctx.file) : process.cwd(), file);
  let text: string;
  try {
    text = readBounded(full);
  } catch (err) {
    problem(path, `a readable regular file of at most ${MAX_DATA_FILE_BYTES / 1024 / 1024} MiB`, `${full}: ${(err as Error).message}`);
    return undefined;
  }
  const values: string[] = [];
  const take = (v: unknown, where: string): boolean => {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') {
      values.push(String(v));
      return true;
    }
    problem(path, 'string, number or boolean values', `${where} in ${full}`);
    return false;
  };
  if (/\.json$/i.test(full)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      problem(path, 'a JSON file', `${full}: ${(err as Error).message}`);
      return undefined;
    }
    if (!Array.isArray(doc)) {
      problem(path, 'a JSON array', `${full}: ${doc === null ? 'null' : typeof doc}`);
      return undefined;
    }
    for (let i = 0; i < doc.length; i++) {
      const item: unknown = doc[i];
      const v = column !== undefined ? (item && typeof item === 'object' ? (item as Record<string, unknown>)[column] : undefined) : item;
      if (!take(v, `[${i}]${column !== undefined ? `.${column}` : ''}`)) return undefined;
    }
  } else {
    let rows: Array<Record<string, string>>;
    try {
      rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Array<Record<string, string>>;
    } catch (err) {
      problem(path, 'a CSV file with a header row', `${full}: ${(err as Error).message}`);
      return undefined;
    }
    const header = rows[0] ? Object.keys(rows[0]) : [];
    const col = column ?? (header.length === 1 ? header[0] : undefined);
    if (col === undefined || (rows.length > 0 && !header.includes(col))) {
      problem(`${path.replace(/\.file$/, '')}.column`, `a column of ${full} (${header.join(', ') || 'none'})`, column ?? 'nothing');
      return undefined;
    }
    for (const row of rows) values.push(row[col] ?? '');
  }
  if (values.length === 0) problem(path, 'a data file with at least one value', `${full}: none`);
  return values;
}

/** Reads a regular file without blocking on FIFOs or devices, and no more than the limit. */
function readBounded(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_DATA_FILE_BYTES) throw new Error(`${st.size} bytes`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
