import { Client } from 'undici';
import { assertAllowedTarget, guardedConnector, type TargetAccess } from './loopback.js';

export const DISCOVER_PAGE_SIZE = 100;
/** A page request that takes longer than this fails discovery. */
export const DISCOVER_PAGE_TIMEOUT_MS = 5_000;
/** The whole discovery gives up after this long. */
export const DISCOVER_TOTAL_TIMEOUT_MS = 30_000;

/**
 * Ids of existing tasks, read from `GET /tasks?limit=100&cursor=…` pages until `max` ids, the
 * last page, or the time limit. Pages are the Task API's: `{ items: [{ id, … }], next_cursor }`;
 * a null `next_cursor` ends the list.
 */
export async function discoverIds(url: string, max: number, access: TargetAccess = {}): Promise<number[]> {
  const origin = assertAllowedTarget(url, access).origin;
  const client = new Client(origin, {
    headersTimeout: DISCOVER_PAGE_TIMEOUT_MS,
    bodyTimeout: DISCOVER_PAGE_TIMEOUT_MS,
    connect: guardedConnector(access, DISCOVER_PAGE_TIMEOUT_MS),
  });
  const deadline = AbortSignal.timeout(DISCOVER_TOTAL_TIMEOUT_MS);
  const ids: number[] = [];
  const maxPages = Math.ceil(max / DISCOVER_PAGE_SIZE) + 1;
  try {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages && ids.length < max; page++) {
      const { items, nextCursor } = await fetchPage(client, cursor, deadline);
      for (const item of items) if (ids.length < max) ids.push(item);
      if (items.length === 0 || nextCursor === undefined || nextCursor === cursor) break;
      cursor = nextCursor;
    }
  } finally {
    await client.close();
  }
  return ids;
}

interface Page {
  items: number[];
  nextCursor: string | undefined;
}

async function fetchPage(client: Client, cursor: string | undefined, signal: AbortSignal): Promise<Page> {
  const path = `/tasks?limit=${DISCOVER_PAGE_SIZE}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
  const res = await client.request({ method: 'GET', path, signal });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new Error(`discovering task ids: GET ${path} answered ${res.statusCode}, expected 200`);
  }
  return parsePage(text, path);
}

export function parsePage(text: string, path: string): Page {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`discovering task ids: GET ${path} did not answer JSON`);
  }
  const record = (body ?? {}) as { items?: unknown; next_cursor?: unknown };
  const list = record.items;
  if (!Array.isArray(list)) throw new Error(`discovering task ids: GET ${path} answered no items array`);
  const items = list.map((t: { id?: unknown } | null) => t?.id).filter((id): id is number => Number.isSafeInteger(id));
  const next = record.next_cursor;
  const nextCursor = typeof next === 'string' || typeof next === 'number' ? String(next) : undefined;
  return { items, nextCursor };
}
