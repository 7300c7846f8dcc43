/**
 * JSON Pointers (RFC 6901) with one extension: a `*` token matches every element of an array or
 * every value of an object, so the pointer items, star, id (written with slashes) selects each
 * item's id. Compiled once; `select`
 * walks a parsed document and never throws.
 */
const EXAMPLE = ['', 'items', '*', 'id'].join('/');

export interface Pointer {
  readonly source: string;
  readonly tokens: readonly string[];
  readonly wildcard: boolean;
}

/** Parses a pointer; returns an error text (what was expected) when it is not one. */
export function compilePointer(source: string): Pointer | { error: string } {
  if (source === '') return { source, tokens: [], wildcard: false };
  if (!source.startsWith('/')) return { error: `a JSON Pointer starting with "/" (e.g. "/id" or "${EXAMPLE}")` };
  const raw = source.slice(1).split('/');
  for (const t of raw) if (/~(?![01])/.test(t)) return { error: 'a JSON Pointer whose "~" is escaped as ~0 or ~1' };
  const tokens = raw.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return { source, tokens, wildcard: raw.includes('*') };
}

/** Every value the pointer selects in `doc` (at most `limit`). */
export function select(pointer: Pointer, doc: unknown, limit = Number.POSITIVE_INFINITY): unknown[] {
  const out: unknown[] = [];
  walk(doc, pointer.tokens, 0, out, limit);
  return out;
}

function walk(node: unknown, tokens: readonly string[], i: number, out: unknown[], limit: number): void {
  if (out.length >= limit) return;
  if (i === tokens.length) {
    if (node !== undefined) out.push(node);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const token = tokens[i] as string;
  if (token === '*') {
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      walk(child, tokens, i + 1, out, limit);
      if (out.length >= limit) return;
    }
    return;
  }
  if (Array.isArray(node)) {
    if (!/^(0|[1-9]\d*)$/.test(token)) return;
    walk(node[Number(token)], tokens, i + 1, out, limit);
    return;
  }
  if (Object.prototype.hasOwnProperty.call(node, token)) walk((node as Record<string, unknown>)[token], tokens, i + 1, out, limit);
}

/** A selected value as a pool holds it: strings and finite numbers and booleans; anything else is not a value. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return undefined;
}
