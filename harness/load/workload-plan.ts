/**
 * A workload: named requests drawn by weight, built from templates, fed by pools of values.
 * Plain data, validated before a run (harness/scenario/workload-plan.ts builds it from a scenario);
 * harness/load/workload.ts runs it.
 */

/** Values read before the run from a paged list endpoint of the target. */
export interface DiscoverSource {
  /** First page, relative to the target URL (e.g. "/orders?limit=100"). */
  path: string;
  /** JSON Pointer (a `*` token for every element) of the values in a page, e.g. "/items/ * /id" without spaces. */
  items: string;
  /**
   * JSON Pointer of the next page in a page: a path ("/orders?after=…") or a URL on the target's
   * origin is fetched as it is; any other value is a cursor, added to the first page's path as
   * `cursorParam`. Absent, null or empty: the last page.
   */
  next?: string;
  cursorParam: string;
  /** Stop after this many values. */
  max: number;
  /** Request headers (templates: `{{env NAME}}` for credentials), e.g. the service's auth header. */
  headers?: Record<string, string>;
}

export interface PoolPlan {
  name: string;
  /** At most this many values are kept; a capture into a full pool replaces a random one. */
  capacity: number;
  discover?: DiscoverSource;
  /** Values known before the run: a data file's (read at validation) or inline. */
  values?: string[];
  /** Filled from the platform's seeded rows when it has them (the Task API preset on the local platform). */
  platformSeeded?: boolean;
}

/** What a 2xx write acknowledges, for the durability check. */
export interface WritePlan {
  op: 'create' | 'update' | 'delete';
  /** create: JSON Pointer of the new entity's id in the response; update/delete: the first value the path picked. */
  idPointer?: string;
  /** The path that GETs the entity back after the run, `{id}` standing for its id (URL-encoded); absent: not read back. */
  read?: string;
  /** JSON Pointers of the fields the read-back must hold as the acknowledged response had them. */
  fields?: string[];
}

export interface RequestPlan {
  name: string;
  weight: number;
  method: string;
  /** Templates (see template.ts). */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Statuses that count as success; absent: any status below 400. */
  expect?: number[];
  /** pool name → JSON Pointer into the response body of a success. */
  capture: Record<string, string>;
  write?: WritePlan;
}

export interface WorkloadPlan {
  /** The preset it came from, when it came from one. */
  preset?: string;
  pools: PoolPlan[];
  requests: RequestPlan[];
}

/** Default pool capacity: enough ids to spread reads, bounded memory (≈ 100k short strings). */
export const DEFAULT_POOL_CAPACITY = 100_000;

/** The statuses that count as success for a request. */
export function isSuccess(request: Pick<RequestPlan, 'expect'>, status: number): boolean {
  return request.expect ? request.expect.includes(status) : status >= 100 && status < 400;
}
