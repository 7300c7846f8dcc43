import { isDeepStrictEqual } from 'node:util';
import { Pool } from 'undici';
import { compilePointer, select, type Pointer } from '../load/json-pointer.js';
import { assertAllowedTarget, guardedConnector, type TargetAccess } from '../load/loopback.js';
import { newFaker } from '../load/faker.js';
import { analyzeTemplate, TemplateCompiler } from '../load/template.js';
import type { AcknowledgedWrite } from '../load/types.js';
import type { RequestPlan, WorkloadPlan } from '../load/workload-plan.js';
import type { DurabilityReport, LostWrite } from './durability.js';

/**
 * The durability check for any HTTP service: after the run, every entity an acknowledged write
 * touched is read back once over HTTP (the request's `write.read` path, its headers) and must hold
 * what its decisive write acknowledged: a create or update answers 200 with the acknowledged
 * `write.fields`, a delete answers 404 or 410. Same host policy and TLS as the load; bounded in
 * concurrency, per-request time, total time and entities.
 */

export const READ_BACK_CONCURRENCY = 8;
export const READ_BACK_TIMEOUT_MS = 5_000;
export const READ_BACK_TOTAL_MS = 60_000;
export const READ_BACK_MAX_ENTITIES = 10_000;
/** A read-back answer larger than this is not parsed (the entity is reported unverified). */
export const READ_BACK_MAX_BODY_BYTES = 1024 * 1024;
/** A 5xx, 429 or transport error is tried once more before the entity is reported unverified. */
const ATTEMPTS = 2;

export interface ReadBackOptions {
  concurrency?: number;
  /** Per read (connect, headers, body). */
  timeoutMs?: number;
  /** The whole check: entities not read by then are counted in `unread`. */
  totalMs?: number;
  /** At most this many entities are read (spread evenly over the run); the others count in `unread`. */
  maxEntities?: number;
  /** At most this many lost writes are listed (all are counted); default 1000. */
  maxReported?: number;
  /** For `{{env NAME}}` in the requests' headers. */
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

/** One entity to read: its path and the write that decides what it must hold. */
interface Entity {
  path: string;
  write: AcknowledgedWrite;
  request: ReadRequest;
}

interface ReadRequest {
  read: string;
  headers: Record<string, string>;
  fields: Pointer[];
}

/** The entity's id as text: the service's key, or the Task API's number. */
export function writeKey(w: AcknowledgedWrite): string {
  return w.key ?? String(w.id);
}

/**
 * The decisive write of each entity (by its read path): the one acknowledged last (`atMs`; on a
 * tie a delete wins, then the later in the list). Writes whose request has no `write.read` are
 * not read back.
 */
export function decisiveByPath(workload: WorkloadPlan, writes: readonly AcknowledgedWrite[]): Map<string, AcknowledgedWrite> {
  const reads = new Map(workload.requests.filter((r) => r.write?.read !== undefined).map((r) => [r.name, r.write?.read as string]));
  const out = new Map<string, AcknowledgedWrite>();
  for (const w of writes) {
    const read = w.request !== undefined ? reads.get(w.request) : undefined;
    if (read === undefined) continue;
    const path = read.replaceAll('{id}', encodeURIComponent(writeKey(w)));
    const best = out.get(path);
    if (best === undefined || w.atMs > best.atMs || (w.atMs === best.atMs && (w.op === 'delete' || best.op !== 'delete'))) out.set(path, w);
  }
  return out;
}

/** Reads back every entity the acknowledged writes of requests with `write.read` touched. */
export async function readBackWrites(
  targetUrl: string,
  access: TargetAccess,
  workload: WorkloadPlan,
  writes: readonly AcknowledgedWrite[],
  options: ReadBackOptions = {},
): Promise<DurabilityReport> {
  const {
    concurrency = READ_BACK_CONCURRENCY,
    timeoutMs = READ_BACK_TIMEOUT_MS,
    totalMs = READ_BACK_TOTAL_MS,
    maxEntities = READ_BACK_MAX_ENTITIES,
    maxReported = 1000,
    env = process.env,
  } = options;
  const requests = readRequests(workload, env);
  const decisive = decisiveByPath(workload, writes);
  const all: Entity[] = [...decisive].map(([path, write]) => ({ path, write, request: requests.get(write.request as string) as ReadRequest }));
  all.sort((a, b) => a.write.atMs - b.write.atMs);
  const entities = spread(all, maxEntities);
  const report: DurabilityReport = {
    acknowledged: writes.filter((w) => w.request !== undefined && requests.has(w.request)).length,
    checked: 0,
    lostTotal: 0,
    lostByOp: { create: 0, update: 0, delete: 0 },
    lost: [],
    unread: all.length - entities.length,
  };
  if (entities.length === 0) return report;
  const origin = assertAllowedTarget(targetUrl, access).origin;
  const pool = new Pool(origin, { connections: concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: guardedConnector(access, timeoutMs) });
  const deadline = AbortSignal.any([AbortSignal.timeout(totalMs), ...(options.signal ? [options.signal] : [])]);
  const lost: Array<LostWrite & { order: number }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entities.length && !deadline.aborted) {
      const order = next++;
      const entity = entities[order] as Entity;
      const reason = await check(pool, entity, timeoutMs, deadline);
      if (reason === null) break; // the time limit or the run's signal: not read
      report.checked += 1;
      if (reason === undefined) continue;
      report.lostTotal += 1;
      report.lostByOp[entity.write.op] += 1;
      lost.push({ op: entity.write.op, id: writeKey(entity.write), atMs: entity.write.atMs, reason, order });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, entities.length) }, worker));
  } finally {
    await pool.destroy().catch(() => undefined);
  }
  options.signal?.throwIfAborted();
  report.unread = all.length - report.checked;
  // In the order of acknowledgement, whatever order the concurrent reads finished in.
  lost.sort((a, b) => a.order - b.order);
  report.lost = lost.slice(0, maxReported).map(({ order: _, ...l }) => l);
  return report;
}

/** Each request's read path, rendered headers and field pointers. Headers are rendered once (env and literal helpers). */
function readRequests(workload: WorkloadPlan, env: Readonly<Record<string, string | undefined>>): Map<string, ReadRequest> {
  const compiler = new TemplateCompiler({
    random: Math.random,
    // English only, loaded on first use (faker's main entry loads every locale: ~0.3 s of every run's start).
    faker: newFaker(),
    pick: (name) => {
      throw new Error(`a read-back header cannot pick from pool ${name}`);
    },
    env: (name) => env[name] ?? '',
  });
  const out = new Map<string, ReadRequest>();
  for (const r of workload.requests) {
    if (r.write?.read === undefined) continue;
    out.set(r.name, { read: r.write.read, headers: readHeaders(r, compiler), fields: (r.write.fields ?? []).map((f) => compilePointer(f) as Pointer) });
  }
  return out;
}

/** The request's headers for a GET: its own, without those that describe a body. */
function readHeaders(r: RequestPlan, compiler: TemplateCompiler): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    if (/^content-(type|length|encoding)$/i.test(k)) continue;
    const info = analyzeTemplate(v);
    if ('error' in info) throw new Error(`request ${r.name}: header ${k}: expected ${info.error.expected}, found ${info.error.found}`);
    out[k] = compiler.compile(v, info)();
  }
  return out;
}

/** At most `max` of `items`, evenly spaced (all of them when they fit). */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)] as T);
}

type Answer = { status: number; text: string | undefined } | { error: string };

/** Why the entity does not hold what was acknowledged; undefined when it does; null when the time ran out first. */
async function check(pool: Pool, entity: Entity, timeoutMs: number, deadline: AbortSignal): Promise<string | undefined | null> {
  const { write, path, request } = entity;
  let answer: Answer = { error: 'not read' };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (deadline.aborted) return null;
    answer = await get(pool, path, request.headers, timeoutMs, deadline);
    if (deadline.aborted) return null;
    if (!('error' in answer) && answer.status < 500 && answer.status !== 429) break;
  }
  if ('error' in answer) return `unverified: GET ${path} failed (${answer.error})`;
  const { status, text } = answer;
  if (write.op === 'delete') {
    if (status === 404 || status === 410) return undefined;
    return status === 200 ? `still present: GET ${path} answered 200 after the acknowledged delete` : `unverified: GET ${path} answered ${status}, expected 404 or 410`;
  }
  if (status === 404 || status === 410) return `missing: GET ${path} answered ${status} after the acknowledged ${write.op}`;
  if (status !== 200) return `unverified: GET ${path} answered ${status}, expected 200`;
  if (text === undefined) return `unverified: GET ${path} answered more than ${READ_BACK_MAX_BODY_BYTES} bytes`;
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    return `unverified: GET ${path} did not answer JSON`;
  }
  const acked = write.fields ?? {};
  const differing = request.fields.filter((p) => Object.hasOwn(acked, p.source) && !isDeepStrictEqual(select(p, doc, 1)[0], acked[p.source]));
  if (differing.length === 0) return undefined;
  const what = differing.map((p) => `${p.source} is ${brief(select(p, doc, 1)[0])}, acknowledged ${brief(acked[p.source])}`).join('; ');
  return `changed: ${what} (the acknowledged ${write.op})`;
}

async function get(pool: Pool, path: string, headers: Record<string, string>, timeoutMs: number, deadline: AbortSignal): Promise<Answer> {
  try {
    const res = await pool.request({ method: 'GET', path, headers, signal: AbortSignal.any([deadline, AbortSignal.timeout(timeoutMs)]) });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > READ_BACK_MAX_BODY_BYTES) {
        res.body.destroy();
        return { status: res.statusCode, text: undefined };
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    return { error: (err as Error).message.slice(0, 200) };
  }
}

/** A value in a reason: JSON, cut short. */
function brief(v: unknown): string {
  const text = v === undefined ? 'absent' : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
