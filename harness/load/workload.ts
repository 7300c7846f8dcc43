import { seededRandom } from '../core/random.js';
import type { Faker } from '@faker-js/faker';
import { newFaker } from './faker.js';
import { compilePointer, scalarText, select, type Pointer } from './json-pointer.js';
import { Mix } from './mix.js';
import { ValuePool } from './pools.js';
import { analyzeTemplate, PoolEmptyError, TemplateCompiler, type RenderFn, type TemplateInfo } from './template.js';
import type { AcknowledgedWrite } from './types.js';
import { isSuccess, type RequestPlan, type WorkloadPlan } from './workload-plan.js';

/** The fields both HTTP clients need; filled in place for every request. */
export interface HttpRequestSpec {
  method: string;
  path: string;
  body: Buffer | string | undefined;
  headers: Record<string, string>;
}

/** What `fill` returns when a pool the request needs is empty: the arrival is not sent. */
export const SKIPPED = undefined;

interface CompiledRequest {
  plan: RequestPlan;
  path: RenderFn;
  /** Static headers are one shared object; templated ones are rendered per request. */
  headers: Record<string, string> | Array<[string, RenderFn]>;
  body?: RenderFn;
  captures: Array<[ValuePool, Pointer]>;
  idPointer?: Pointer;
  /** A write read back after the run: the fields it compares (none for a delete). */
  readFields?: Pointer[];
  keepsBody: boolean;
}

/**
 * A workload bound to one run: draws requests by weight, renders them from their compiled
 * templates, feeds captures back into pools and keeps the acknowledged writes. Seeded: the same
 * seed gives the same requests in the same order (timing aside). One per driver.
 */
export class Workload {
  readonly mix: Mix;
  readonly writes: AcknowledgedWrite[] = [];
  readonly pools = new Map<string, ValuePool>();
  private readonly requests: CompiledRequest[];
  private readonly random: () => number;
  /** The first value the request being filled picked (its entity, for writes). */
  private picked: string | null = null;
  private onEmpty: ((pool: string) => void) | undefined;

  constructor(plan: WorkloadPlan, seed: number, poolValues: ReadonlyMap<string, readonly string[]>, env: Readonly<Record<string, string | undefined>> = process.env) {
    this.mix = new Mix(plan.requests.map((r) => ({ name: r.name, weight: r.weight })), seed);
    // A separate stream: template and pool picks never shift the request sequence.
    this.random = seededRandom((seed ^ 0x9e3779b9) >>> 0);
    for (const p of plan.pools) this.pools.set(p.name, new ValuePool(p.name, p.capacity, poolValues.get(p.name) ?? p.values ?? []));
    // Faker (about 10 MB of memory) only for a workload that names it: loaded now, before the run's
    // zero, so the first request does not wait for it; otherwise on first use, should one come.
    let faker: Faker | undefined;
    const fakerOnce = (): Faker => (faker ??= newFaker(seed));
    if (plan.requests.some((r) => [r.path, r.body ?? '', ...Object.values(r.headers)].some((t) => t.includes('faker')))) fakerOnce();
    const compiler = new TemplateCompiler({
      random: this.random,
      get faker() {
        return fakerOnce();
      },
      pick: (name, remove) => this.pickFrom(name, remove),
      env: (name) => env[name] ?? '',
    });
    this.requests = plan.requests.map((r) => this.compile(r, compiler));
  }

  /** Called (once per pool and emptying) when a request finds a pool empty. */
  onPoolEmpty(listener: (pool: string) => void): void {
    this.onEmpty = listener;
  }

  nextOp(): number {
    return this.mix.next();
  }

  requestName(op: number): string {
    return (this.requests[op] as CompiledRequest).plan.name;
  }

  /**
   * Fills `req` for request `op`. Returns the value its path picked first (its entity), null when
   * it picked none, or SKIPPED (undefined) when a pool it needs is empty: then nothing is sent.
   */
  fill(req: HttpRequestSpec, op: number): string | null | undefined {
    const r = this.requests[op] as CompiledRequest;
    this.picked = null;
    try {
      req.method = r.plan.method;
      req.path = r.path();
      req.headers = Array.isArray(r.headers) ? renderHeaders(r.headers) : r.headers;
      req.body = r.body ? r.body() : undefined;
    } catch (err) {
      if (err instanceof PoolEmptyError) return SKIPPED;
      throw err;
    }
    return this.picked;
  }

  /** True when a response to `op` with this status must be read (captures, acknowledged writes). */
  keepsBody(op: number, status: number): boolean {
    const r = this.requests[op] as CompiledRequest;
    return r.keepsBody && isSuccess(r.plan, status);
  }

  /** A successful response whose body was kept: captures into pools, records an acknowledged write. */
  acknowledge(op: number, picked: string | null, responseText: string, atMs: number): void {
    const r = this.requests[op] as CompiledRequest;
    const doc = responseText ? parseJson(responseText) : undefined;
    for (const [pool, pointer] of r.captures) {
      for (const v of select(pointer, doc, pool.capacity)) {
        const text = scalarText(v);
        if (text !== undefined) pool.add(text, this.random);
      }
    }
    const write = r.plan.write;
    if (!write) return;
    const idText = r.idPointer ? scalarText(select(r.idPointer, doc, 1)[0]) : picked;
    if (r.readFields) {
      // Read back over HTTP after the run: any id, and only the fields it compares (JSON Pointer → value).
      if (idText === null || idText === undefined || idText === '') return;
      const acked: Record<string, unknown> = {};
      if (write.op !== 'delete') for (const p of r.readFields) {
        const v = select(p, doc, 1)[0];
        if (v !== undefined) acked[p.source] = v;
      }
      const id = /^-?\d{1,15}$/.test(idText) ? Number(idText) : Number.NaN;
      this.writes.push({ op: write.op, id, key: idText, atMs, request: r.plan.name, ...(write.op !== 'delete' ? { fields: acked } : {}) });
      return;
    }
    const fields = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
    const id = idText === null || idText === undefined ? Number.NaN : Number(idText);
    if (!Number.isSafeInteger(id)) return;
    if (write.op === 'delete') this.writes.push({ op: 'delete', id, atMs, request: r.plan.name });
    else this.writes.push(fields ? { op: write.op, id, atMs, fields, request: r.plan.name } : { op: write.op, id, atMs, request: r.plan.name });
  }

  /** Arrivals not sent because a pool was empty, per pool. */
  emptied(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.pools.values()) if (p.emptied > 0) out[p.name] = p.emptied;
    return out;
  }

  private pickFrom(name: string, remove: boolean): string {
    const pool = this.pools.get(name);
    const v = pool?.pick(this.random, remove);
    if (v === undefined) {
      if (pool) {
        if (pool.emptied === 0) this.onEmpty?.(name);
        pool.emptied++;
      }
      throw new PoolEmptyError(name);
    }
    this.picked ??= v;
    return v;
  }

  private compile(r: RequestPlan, compiler: TemplateCompiler): CompiledRequest {
    const render = (source: string): RenderFn => compiler.compile(source, checked(source, r.name));
    const templated = Object.entries(r.headers).filter(([, v]) => v.includes('{{'));
    const captures: Array<[ValuePool, Pointer]> = Object.entries(r.capture).map(([pool, ptr]) => [this.pools.get(pool) ?? this.addPool(pool), compilePointer(ptr) as Pointer]);
    const idPointer = r.write?.idPointer !== undefined ? (compilePointer(r.write.idPointer) as Pointer) : undefined;
    return {
      plan: r,
      path: render(r.path),
      headers: templated.length > 0 ? Object.entries(r.headers).map(([k, v]): [string, RenderFn] => [k, render(v)]) : { ...r.headers },
      ...(r.body !== undefined ? { body: render(r.body) } : {}),
      captures,
      ...(idPointer ? { idPointer } : {}),
      ...(r.write?.read !== undefined ? { readFields: (r.write.fields ?? []).map((f) => compilePointer(f) as Pointer) } : {}),
      keepsBody: captures.length > 0 || r.write !== undefined,
    };
  }

  private addPool(name: string): ValuePool {
    const pool = new ValuePool(name, 100_000);
    this.pools.set(name, pool);
    return pool;
  }
}

/** The pools that requests with a weight above 0 pick or take from, read from their templates. */
export function poolsPickedBy(requests: readonly RequestPlan[]): Set<string> {
  const pools = new Set<string>();
  for (const r of requests) {
    if (r.weight <= 0) continue;
    for (const source of [r.path, ...Object.values(r.headers), ...(r.body !== undefined ? [r.body] : [])]) {
      const info = analyzeTemplate(source);
      if ('error' in info) continue;
      for (const pool of [...info.picks, ...info.takes]) pools.add(pool);
    }
  }
  return pools;
}

function checked(source: string, request: string): TemplateInfo {
  const info = analyzeTemplate(source);
  if ('error' in info) throw new Error(`request ${request}: template ${JSON.stringify(source)}: expected ${info.error.expected}, found ${info.error.found}`);
  return info;
}

function renderHeaders(headers: Array<[string, RenderFn]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, render] of headers) out[k] = render();
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
