import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { InputError, type Problem } from '../core/errors.js';
import { FILE_LIMITS } from './limits.js';
import type { Plan } from './plan.js';
import { problemsFromZod } from './problems.js';
import { looseScenarioSchema, scenarioSchema } from './schema.js';
import { toPlan, type PlanContext } from './to-plan.js';

export type PlanResult = { plan: Plan; problems?: undefined } | { plan?: undefined; problems: Problem[] };

const NESTING = `mappings and sequences nested at most ${FILE_LIMITS.maxDepth} deep`;

/** Parses and validates scenario text; every problem is reported at once (up to FILE_LIMITS.maxProblems). */
export function planFromText(text: string, ctx: PlanContext): PlanResult {
  const result = judgeText(text, ctx);
  return result.problems ? { problems: capped(result.problems, ctx.file) } : result;
}

function judgeText(text: string, ctx: PlanContext): PlanResult {
  const file = ctx.file;
  const at = (path: string, expected: string, found: string): Problem => ({ ...(file ? { file } : {}), path, expected, found });
  if (text.length > FILE_LIMITS.maxBytes) return { problems: [at('', `a scenario of at most ${FILE_LIMITS.maxBytes} characters`, `${text.length}`)] };
  const lines = new LineCounter();
  // Duplicate keys are found below in one pass: the library's own check compares every pair.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const where = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
        const message = (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '');
        // The parser reports its own stack overflow on deeply nested input as an error of the document.
        if (/maximum call stack/i.test(message)) return at(where, NESTING, 'nesting too deep to parse');
        return at(where, 'valid YAML', message);
      }),
    };
  }
  const shape = structureProblems(doc, lines).map((p) => at(p.path, p.expected, p.found));
  if (shape.length > 0) return { problems: shape };
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: FILE_LIMITS.maxAliasCount });
  } catch (err) {
    // The library refuses aliases that expand beyond maxAliasCount ("billion laughs") with a ReferenceError.
    if (!(err instanceof ReferenceError)) throw err;
    const bomb = /excessive alias count/i.test(err.message);
    const expected = bomb ? `YAML aliases expanding to at most ${FILE_LIMITS.maxAliasCount} nodes in all` : 'valid YAML';
    return { problems: [at(firstAliasAt(doc, lines), expected, bomb ? 'aliases that expand without bound (an alias bomb, "billion laughs")' : err.message)] };
  }
  const parsed = scenarioSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return toPlan(parsed.data, ctx);
  const problems = problemsFromZod(parsed.error.issues, file);
  // With only unknown keys wrong, the rest is still judged, so every problem is reported at once.
  const loose = looseScenarioSchema.safeParse(input);
  if (loose.success) {
    const rest = toPlan(loose.data, ctx);
    if ('problems' in rest) problems.push(...rest.problems);
  }
  return { problems };
}

function capped(problems: Problem[], file: string | undefined): Problem[] {
  const max = FILE_LIMITS.maxProblems;
  if (problems.length <= max) return problems;
  const more: Problem = { ...(file ? { file } : {}), path: '', expected: `at most ${max} problems listed`, found: `${problems.length - max} more` };
  return [...problems.slice(0, max), more];
}

type Shape = { path: string; expected: string; found: string };

/**
 * One iterative walk over the parsed document (no recursion, so no stack overflow on deep input):
 * nesting deeper than FILE_LIMITS.maxDepth, and keys given twice in one mapping (which the
 * conversion to plain objects would silently merge), each with its scenario path and line.
 */
function structureProblems(doc: Document, lines: LineCounter): Shape[] {
  const found: Shape[] = [];
  const where = (node: { range?: [number, number, number] | null } | null | undefined): string => {
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    return pos ? `line ${pos.line}, column ${pos.col}` : 'an unknown line';
  };
  const stack: Array<{ node: unknown; path: string; depth: number }> = [{ node: doc.contents, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop() as (typeof stack)[number];
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= FILE_LIMITS.maxDepth) {
      return [{ path: path || '(root)', expected: NESTING, found: `deeper nesting at ${where(node)}` }];
    }
    if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : isAlias(pair.key) ? `*${pair.key.source}` : undefined;
      const keyPath = key === undefined ? path : path ? `${path}.${key}` : key;
      if (key !== undefined) {
        if (seen.has(key)) found.push({ path: keyPath, expected: 'each key once in a mapping', found: `"${key}" again at ${where(pair.key as Parameters<typeof where>[0])}` });
        seen.add(key);
      } else {
        stack.push({ node: pair.key, path: keyPath, depth: depth + 1 });
      }
      stack.push({ node: pair.value, path: keyPath, depth: depth + 1 });
    }
  }
  return found;
}

function firstAliasAt(doc: Document, lines: LineCounter): string {
  const stack: unknown[] = [doc.contents];
  let first: number | undefined;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node) && node.range) first = Math.min(first ?? Infinity, node.range[0]);
    else if (isSeq(node)) stack.push(...node.items);
    else if (isMap(node)) for (const pair of node.items) stack.push(pair.key, pair.value);
  }
  if (first === undefined) return '';
  const pos = lines.linePos(first);
  return `line ${pos.line}, column ${pos.col}`;
}

const KINDS: Array<[(s: Stats) => boolean, string]> = [
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isFIFO(), 'a FIFO (named pipe)'],
  [(s) => s.isSocket(), 'a socket'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
];

function kindOf(s: Stats): string {
  return KINDS.find(([test]) => test(s))?.[1] ?? 'not a regular file';
}

/**
 * The text of a scenario file, refusing at once what is not a small regular file: the type and size
 * are checked before reading (a FIFO, a device or a 20 MB file is never read), and again on the open
 * descriptor, which is opened non-blocking so that a path swapped for a FIFO in between cannot hang;
 * at most maxBytes + 1 bytes are ever read, so a file that grows meanwhile is refused too.
 */
export async function readScenarioText(file: string): Promise<{ text: string; problem?: undefined } | { text?: undefined; problem: Problem }> {
  const refuse = (expected: string, found: string) => ({ problem: { file, path: '', expected, found } });
  const max = FILE_LIMITS.maxBytes;
  const regular = 'a regular file (a scenario in YAML)';
  const tooBig = `a scenario file of at most ${max / 1024} KiB (${max} bytes)`;
  const unreadable = (err: unknown) => refuse('a readable scenario file', (err as NodeJS.ErrnoException).code ?? 'an unreadable file');
  try {
    const before = await stat(file);
    if (!before.isFile()) return refuse(regular, kindOf(before));
    if (before.size > max) return refuse(tooBig, `${before.size} bytes`);
  } catch (err) {
    return unreadable(err);
  }
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return unreadable(err);
  }
  try {
    const now = await handle.stat();
    if (!now.isFile()) return refuse(regular, kindOf(now));
    const buf = Buffer.alloc(max + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) return refuse(tooBig, `more than ${max} bytes`);
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length)) };
    } catch {
      return refuse('UTF-8 text', 'bytes that are not UTF-8');
    }
  } catch (err) {
    return unreadable(err);
  } finally {
    await handle.close();
  }
}

/** `options`: what the command line adds (--allow-host, --prometheus, --platform and the Kubernetes flags). */
export async function planFromFile(file: string, env: PlanContext['env'], options: Omit<PlanContext, 'file' | 'env'> = {}): Promise<PlanResult> {
  const read = await readScenarioText(file);
  if (read.problem) return { problems: [read.problem] };
  return planFromText(read.text, { file, env, ...options });
}

/** The plan of one file, or an InputError carrying all of its problems. */
export async function loadPlan(file: string, env: PlanContext['env'], options: Omit<PlanContext, 'file' | 'env'> = {}): Promise<Plan> {
  const result = await planFromFile(file, env, options);
  if (result.problems) throw new InputError(result.problems);
  return result.plan;
}
