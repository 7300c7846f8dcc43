import type { AcknowledgedWrite, MixEntry, OperationName } from './types.js';
import { Mix } from './mix.js';
import { seededRandom } from '../core/random.js';
import { createBodyPool, type BodyPool } from './bodies.js';

/** Created ids join the pool of ids to read and update, up to this many (bounded memory). */
export const MAX_ID_POOL = 100_000;
export const LIST_PATH = '/tasks?limit=20';
const ID_OPS: readonly OperationName[] = ['get', 'update', 'delete'];

/** The fields both HTTP clients need; filled in place so no object is allocated per request. */
export interface HttpRequestSpec {
  method: string;
  path: string;
  body: Buffer | undefined;
  headers: Record<string, string>;
}

/**
 * The request mix bound to a target: draws ops, picks ids, fills requests, and keeps the
 * acknowledged writes. One per run and per driver (its header objects are not shared).
 */
export class Workload {
  readonly mix: Mix;
  readonly writes: AcknowledgedWrite[] = [];
  private readonly ids: number[];
  private readonly paths: string[];
  private readonly pick: () => number;
  private readonly bodies: BodyPool;
  private readonly jsonHeaders: Record<string, string> = { 'content-type': 'application/json' };
  private readonly noHeaders: Record<string, string> = {};

  constructor(entries: readonly MixEntry[], seed: number, ids: readonly number[]) {
    this.mix = new Mix(entries, seed);
    if (ids.length === 0 && ID_OPS.some((op) => this.mix.has(op))) {
      throw new Error('the request mix reads or writes existing tasks but the target has no known ids: seed rows or use discoverIds()');
    }
    this.ids = ids.slice(0, MAX_ID_POOL);
    this.paths = this.ids.map(taskPath);
    // A separate stream: id and body picks never shift the op sequence.
    this.pick = seededRandom((seed ^ 0x9e3779b9) >>> 0);
    this.bodies = createBodyPool(seed);
  }

  nextOp(): number {
    return this.mix.next();
  }

  opName(op: number): OperationName {
    return this.mix.ops[op] as OperationName;
  }

  isWrite(op: number): boolean {
    const name = this.opName(op);
    return name === 'create' || name === 'update' || name === 'delete';
  }

  /** Fills `req` for `op` and returns the id it targets (-1 for list and create). */
  fill(req: HttpRequestSpec, op: number): number {
    switch (this.opName(op)) {
      case 'get':
        return this.target(req, 'GET', this.pickIndex(), undefined);
      case 'update':
        return this.target(req, 'PATCH', this.pickIndex(), this.pickBody(this.bodies.update));
      case 'delete':
        return this.deleteOne(req);
      case 'create':
        return this.set(req, 'POST', '/tasks', this.pickBody(this.bodies.create), -1);
      case 'list':
        return this.set(req, 'GET', LIST_PATH, undefined, -1);
    }
  }

  /** Records a 2xx write. Parses the response only here: read responses are never parsed. */
  acknowledge(op: number, id: number, responseText: string, atMs: number): void {
    const name = this.opName(op);
    if (name === 'delete') {
      this.writes.push({ op: 'delete', id, atMs });
      return;
    }
    const fields = parseObject(responseText);
    if (name === 'update') {
      this.writes.push(fields ? { op: 'update', id, atMs, fields } : { op: 'update', id, atMs });
    } else if (name === 'create' && fields && typeof fields.id === 'number') {
      this.writes.push({ op: 'create', id: fields.id, atMs, fields });
      this.addId(fields.id);
    }
  }

  get knownIds(): number {
    return this.ids.length;
  }

  private target(req: HttpRequestSpec, method: string, i: number, body: Buffer | undefined): number {
    return this.set(req, method, this.paths[i] as string, body, this.ids[i] as number);
  }

  /** Deletes take their id out of the pool (except the last one) so later reads do not 404. */
  private deleteOne(req: HttpRequestSpec): number {
    const i = this.pickIndex();
    const id = this.target(req, 'DELETE', i, undefined);
    const last = this.ids.length - 1;
    if (last > 0) {
      this.ids[i] = this.ids[last] as number;
      this.paths[i] = this.paths[last] as string;
      this.ids.pop();
      this.paths.pop();
    }
    return id;
  }

  private set(req: HttpRequestSpec, method: string, path: string, body: Buffer | undefined, id: number): number {
    req.method = method;
    req.path = path;
    req.body = body;
    req.headers = body ? this.jsonHeaders : this.noHeaders;
    return id;
  }

  private pickIndex(): number {
    return Math.floor(this.pick() * this.ids.length);
  }

  private pickBody(pool: readonly Buffer[]): Buffer {
    return pool[Math.floor(this.pick() * pool.length)] as Buffer;
  }

  private addId(id: number): void {
    if (this.ids.length >= MAX_ID_POOL) return;
    this.ids.push(id);
    this.paths.push(taskPath(id));
  }
}

function taskPath(id: number): string {
  return `/tasks/${id}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
