import { createRequire } from 'node:module';
import type { Client } from 'undici';
import { assertAllowedTarget, guardedConnector, type TargetAccess } from './loopback.js';
import { newFaker } from './faker.js';
import { compilePointer, scalarText, select, type Pointer } from './json-pointer.js';
import { analyzeTemplate, TemplateCompiler } from './template.js';
import type { DiscoverSource, PoolPlan } from './workload-plan.js';

/** undici loads at first use (~0.1 s, ~15 MB): a process running only the open model never needs it. */
const undici = (): typeof import('undici') => createRequire(import.meta.url)('undici') as typeof import('undici');

/** A page request that takes longer than this fails discovery. */
export const DISCOVER_PAGE_TIMEOUT_MS = 5_000;
/** The whole discovery of one pool gives up after this long. */
export const DISCOVER_TOTAL_TIMEOUT_MS = 30_000;
/** At most this many pages per pool, whatever the pages say. */
export const DISCOVER_MAX_PAGES = 10_000;

/**
 * The values a workload's templates pick from. Bounded: a value added to a full pool replaces a
 * random one, so captured ids keep flowing in without the pool growing.
 */
export class ValuePool {
  private readonly values: string[];
  /** How many times a request found it empty. */
  emptied = 0;

  constructor(
    readonly name: string,
    readonly capacity: number,
    initial: readonly string[] = [],
  ) {
    this.values = initial.slice(0, capacity);
  }

  get size(): number {
    return this.values.length;
  }

  add(value: string, random: () => number): void {
    if (this.values.length < this.capacity) this.values.push(value);
    else this.values[Math.floor(random() * this.values.length)] = value;
  }

  /** A random value, or undefined when empty; `remove` takes it out (swap with the last). */
  pick(random: () => number, remove: boolean): string | undefined {
    const n = this.values.length;
    if (n === 0) return undefined;
    const i = Math.floor(random() * n);
    const v = this.values[i] as string;
    if (remove) {
      this.values[i] = this.values[n - 1] as string;
      this.values.pop();
    }
    return v;
  }
}

/** Pools' starting values: seeded rows the platform knows, data-file values, or discovered from the target. */
export interface PoolFill {
  /** Values the platform seeded (for pools marked platformSeeded). */
  seeded?: readonly string[];
}

export async function fillPools(pools: readonly PoolPlan[], targetUrl: string, fill: PoolFill, signal?: AbortSignal, access: TargetAccess = {}): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const pool of pools) {
    signal?.throwIfAborted();
    if (pool.platformSeeded && fill.seeded && fill.seeded.length > 0) out.set(pool.name, fill.seeded.slice(0, pool.capacity));
    else if (pool.values) out.set(pool.name, pool.values.slice(0, pool.capacity));
    else if (pool.discover) out.set(pool.name, await discover(targetUrl, pool.name, pool.discover, Math.min(pool.capacity, pool.discover.max), access));
    else out.set(pool.name, []);
  }
  return out;
}

/**
 * Reads a paged list endpoint until `max` values, the last page, a repeated page or the time
 * limit. Every page must answer 200 with JSON; anything else fails the discovery with a message
 * naming the page.
 */
export async function discover(
  targetUrl: string,
  pool: string,
  source: DiscoverSource,
  max: number,
  access: TargetAccess = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string[]> {
  // The target's host policy and TLS, as for the load itself.
  const origin = assertAllowedTarget(targetUrl, access).origin;
  const items = compilePointer(source.items) as Pointer;
  const next = source.next !== undefined ? (compilePointer(source.next) as Pointer) : undefined;
  const client = new (undici().Client)(origin, { headersTimeout: DISCOVER_PAGE_TIMEOUT_MS, bodyTimeout: DISCOVER_PAGE_TIMEOUT_MS, connect: guardedConnector(access, DISCOVER_PAGE_TIMEOUT_MS) });
  const deadline = AbortSignal.timeout(DISCOVER_TOTAL_TIMEOUT_MS);
  const headers = renderHeaders(source.headers ?? {}, env);
  const values: string[] = [];
  const seen = new Set<string>();
  try {
    let path: string | undefined = source.path;
    for (let page = 0; path !== undefined && page < DISCOVER_MAX_PAGES && values.length < max; page++) {
      if (seen.has(path)) break;
      seen.add(path);
      const doc = await fetchJson(client, path, headers, pool, deadline);
      for (const v of select(items, doc, max - values.length)) {
        const text = scalarText(v);
        if (text !== undefined) values.push(text);
      }
      path = next ? nextPath(source, origin, select(next, doc, 1)[0]) : undefined;
    }
  } finally {
    await client.close();
  }
  return values;
}

function nextPath(source: DiscoverSource, origin: string, value: unknown): string | undefined {
  const text = scalarText(value);
  if (text === undefined || text === '') return undefined;
  if (text.startsWith('/')) return text;
  if (/^https?:\/\//i.test(text)) {
    const url = new URL(text);
    return url.origin === origin ? url.pathname + url.search : undefined;
  }
  const url = new URL(source.path, 'http://x');
  url.searchParams.set(source.cursorParam, text);
  return url.pathname + url.search;
}

/** Discovery headers are templates too; only `env` (and literal helpers) make sense before the run. */
function renderHeaders(headers: Record<string, string>, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const compiler = new TemplateCompiler({
    random: Math.random,
    get faker() {
      return newFaker();
    },
    pick: (name) => {
      throw new Error(`a discover header cannot pick from pool ${name}`);
    },
    env: (name) => env[name] ?? '',
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const info = analyzeTemplate(v);
    if ('error' in info) throw new Error(`discover header ${k}: expected ${info.error.expected}, found ${info.error.found}`);
    out[k] = compiler.compile(v, info)();
  }
  return out;
}

async function fetchJson(client: Client, path: string, headers: Record<string, string>, pool: string, signal: AbortSignal): Promise<unknown> {
  const res = await client.request({ method: 'GET', path, headers, signal });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`filling pool ${pool}: GET ${path} answered ${res.statusCode}, expected 200`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`filling pool ${pool}: GET ${path} did not answer JSON`);
  }
}
