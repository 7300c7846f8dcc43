import Handlebars from 'handlebars';
import type { Faker } from '@faker-js/faker';
import { fastFullName, newFaker } from './faker.js';

/**
 * Request templates: Handlebars, checked and compiled once before a run, never per request.
 * The language is deliberately small: text and `{{helper args}}` mustaches (sub-expressions
 * allowed), no blocks, no partials, no context variables. A bare word given to a helper is its
 * name: `{{pick orderIds}}` is `{{pick "orderIds"}}`, `{{env TOKEN}}` is `{{env "TOKEN"}}`.
 *
 * | helper | what it gives |
 * |---|---|
 * | `pick pool` | a random value of the pool (seeded) |
 * | `take pool` | a random value, removed from the pool (e.g. for deletes) |
 * | `int min max` | a random integer in [min, max] |
 * | `float min max [digits]` | a random number in [min, max), `digits` decimals (default 2) |
 * | `oneOf a b …` | one of its arguments |
 * | `faker "person.fullName" [args…]` | a seeded faker value (any faker function by its path) |
 * | `uuid` | a random (seeded) RFC 4122 version-4 UUID |
 * | `seq` | 1, 2, 3… per request template |
 * | `now` | the current time, ISO 8601 |
 * | `env NAME` | an environment variable (its value never reaches logs, journal or reports) |
 * | `json value` | the value as a JSON literal (quoted and escaped), for bodies |
 */
export const TEMPLATE_HELPERS = ['pick', 'take', 'int', 'float', 'oneOf', 'faker', 'uuid', 'seq', 'now', 'env', 'json'] as const;
export type TemplateHelper = (typeof TEMPLATE_HELPERS)[number];

/** What a template uses, found by reading it (nothing is evaluated). */
export interface TemplateInfo {
  /** The text itself when there is no mustache at all. */
  staticText?: string;
  picks: string[];
  takes: string[];
  envs: string[];
  fakers: string[];
  /** Bare words used as helper arguments (they stand for their own name). */
  words: string[];
}

export type TemplateAnalysis = TemplateInfo | { error: { expected: string; found: string } };

type Node = { type: string; [k: string]: unknown };
const KNOWN: ReadonlySet<string> = new Set(TEMPLATE_HELPERS);
const ARITY: Record<TemplateHelper, [number, number]> = {
  pick: [1, 1],
  take: [1, 1],
  int: [2, 2],
  float: [2, 3],
  oneOf: [1, 100],
  faker: [1, 10],
  uuid: [0, 0],
  seq: [0, 0],
  now: [0, 0],
  env: [1, 1],
  json: [1, 1],
};

/**
 * JSON bodies end in `}}}` ("qty": {{int 1 9}}}), which Handlebars would read as the close of a
 * triple-stash. Triple-stashes are not part of this language, so a `}}` followed by `}` is closed
 * there, an empty comment keeping the `}` that follows as text. The output is unchanged.
 */
export function handlebarsSource(source: string): string {
  return source.replace(/\}\}(?=\})/g, '}}{{!}}');
}

/** Reads a template: its syntax, its helpers and their arguments. Errors say what was expected and found. */
export function analyzeTemplate(source: string): TemplateAnalysis {
  if (!source.includes('{{')) return { staticText: source, picks: [], takes: [], envs: [], fakers: [], words: [] };
  if (source.includes('{{{')) return { error: { expected: '{{…}} (output is never HTML-escaped, so there is no {{{…}}})', found: '{{{' } };
  let program: Node;
  try {
    program = Handlebars.parse(handlebarsSource(source)) as unknown as Node;
  } catch (err) {
    return { error: { expected: 'a valid template', found: firstLine((err as Error).message) } };
  }
  const info: TemplateInfo = { picks: [], takes: [], envs: [], fakers: [], words: [] };
  for (const node of program['body'] as Node[]) {
    if (node.type === 'ContentStatement' || node.type === 'CommentStatement') continue;
    if (node.type !== 'MustacheStatement') {
      return { error: { expected: 'text and {{helper …}} only (no blocks, partials or raw blocks)', found: describeNode(node) } };
    }
    if (node['escaped'] === false) return { error: { expected: '{{…}} (output is never HTML-escaped)', found: '{{{…}}}' } };
    const problem = checkCall(node, info);
    if (problem) return { error: problem };
  }
  return info;
}

function checkCall(node: Node, info: TemplateInfo): { expected: string; found: string } | undefined {
  const path = node['path'] as Node;
  const name = path.type === 'PathExpression' ? String(path['original']) : '';
  if (!KNOWN.has(name)) {
    return { expected: `a helper: ${TEMPLATE_HELPERS.join(', ')}`, found: `{{${path['original'] ?? path.type}}}` };
  }
  const helper = name as TemplateHelper;
  if (node['hash']) return { expected: `{{${helper} …}} without key=value arguments`, found: 'key=value arguments' };
  const params = (node['params'] as Node[]) ?? [];
  const [min, max] = ARITY[helper];
  if (params.length < min || params.length > max) {
    return { expected: `{{${helper}}} with ${min === max ? min : `${min} to ${max}`} argument(s)`, found: `${params.length}` };
  }
  for (const p of params) {
    if (p.type === 'SubExpression') {
      const problem = checkCall(p, info);
      if (problem) return problem;
    } else if (p.type === 'PathExpression') {
      const word = String(p['original']);
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(word)) return { expected: 'a bare name, a "string" or a number as argument', found: word };
      info.words.push(word);
    } else if (!['StringLiteral', 'NumberLiteral', 'BooleanLiteral'].includes(p.type)) {
      return { expected: 'a bare name, a "string", a number or (helper …) as argument', found: p.type };
    }
  }
  const first = params[0];
  const firstText = first && (first.type === 'PathExpression' || first.type === 'StringLiteral') ? String(first['original']) : undefined;
  if (helper === 'int' || helper === 'float') {
    if (!params.slice(0, 2).every((p) => p.type === 'NumberLiteral')) return { expected: `{{${helper} min max}} with numbers`, found: params.map((p) => String(p['original'])).join(' ') };
    if (Number(params[0]?.['original']) > Number(params[1]?.['original'])) return { expected: `{{${helper} min max}} with min ≤ max`, found: params.map((p) => String(p['original'])).join(' ') };
  }
  if (helper === 'pick' || helper === 'take' || helper === 'env' || helper === 'faker') {
    if (firstText === undefined) return { expected: `{{${helper}}} naming a ${helper === 'env' ? 'variable' : helper === 'faker' ? 'faker function' : 'pool'}`, found: String(first?.type) };
    if (helper === 'pick') info.picks.push(firstText);
    if (helper === 'take') info.takes.push(firstText);
    if (helper === 'env') info.envs.push(firstText);
    if (helper === 'faker') {
      if (!fakerFunction(checkingFaker(), firstText)) return { expected: 'a faker function path such as "person.fullName" or "number.int"', found: firstText };
      info.fakers.push(firstText);
    }
  }
  return undefined;
}

function describeNode(node: Node): string {
  const path = node['path'] as Node | undefined;
  return path ? `${node.type} {{#${String(path['original'])}}}` : node.type;
}

function firstLine(s: string): string {
  return s.split('\n').slice(0, 2).join(' ').slice(0, 300);
}

let checker: Faker | undefined;
/**
 * A Faker to check function paths with, loaded on first use: faker takes about 0.15 s to load, which
 * `gameday validate` of a scenario without a faker template should not pay.
 */
function checkingFaker(): Faker {
  checker ??= newFaker();
  return checker;
}

/** `faker.person.fullName`, bound; undefined when the path names no function. */
export function fakerFunction(faker: Faker, path: string): ((...args: unknown[]) => unknown) | undefined {
  if (!/^[a-zA-Z]+(\.[a-zA-Z]+)+$/.test(path)) return undefined;
  const parts = path.split('.');
  let owner: unknown = faker;
  for (const part of parts.slice(0, -1)) {
    owner = owner && typeof owner === 'object' ? (owner as Record<string, unknown>)[part] : undefined;
  }
  const fn = owner && typeof owner === 'object' ? (owner as Record<string, unknown>)[parts.at(-1) as string] : undefined;
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown).bind(owner) : undefined;
}

/** What the helpers draw from at run time (one per workload, so one seeded stream per run). */
export interface TemplateRuntime {
  random(): number;
  faker: Faker;
  /** A pool value; throws PoolEmptyError when the pool has none. */
  pick(pool: string, remove: boolean): string;
  env(name: string): string;
}

export class PoolEmptyError extends Error {
  constructor(readonly pool: string) {
    super(`pool ${pool} is empty`);
  }
}

/** A compiled template: call it for each request. Static text costs nothing. */
export type RenderFn = () => string;

type Helper = (...args: unknown[]) => unknown;
/** An argument or a helper call, evaluated per request. */
type Expr = () => unknown;

/**
 * The helpers of one workload, bound to its state, and the renderer of its checked templates.
 * Templates are parsed by Handlebars (the syntax, its whitespace control and the checks above are
 * Handlebars'), and rendered from that tree by closures made once: Handlebars' own runtime sets up
 * a helper container at every call (a wrapper per helper, a prototype-access policy), which cost
 * more than the rest of a request's preparation. The output is Handlebars' with `noEscape`: text as
 * written, each mustache's value appended as text, null and undefined as '' (where Handlebars adds
 * two adjacent numbers, `{{int 1 2}}{{int 3 4}}` → 6, they are joined here: "24").
 */
export class TemplateCompiler {
  private readonly helpers: Record<Exclude<TemplateHelper, 'seq'>, Helper>;

  constructor(rt: TemplateRuntime) {
    const fakers = new Map<string, Helper>();
    this.helpers = {
      pick: (pool) => rt.pick(pool as string, false),
      take: (pool) => rt.pick(pool as string, true),
      int: (lo, hi) => Math.floor((lo as number) + rt.random() * ((hi as number) - (lo as number) + 1)),
      float: (lo, hi, digits) => ((lo as number) + rt.random() * ((hi as number) - (lo as number))).toFixed((digits as number | undefined) ?? 2),
      oneOf: (...options) => options[Math.floor(rt.random() * options.length)],
      faker: (path, ...rest) => {
        let fn = fakers.get(path as string);
        if (!fn) {
          fn = fakerFunction(rt.faker, path as string);
          if (!fn) throw new Error(`unknown faker function ${String(path)}`);
          // The commonest call without faker's pattern engine: the same values, a tenth of the CPU.
          const full = path === 'person.fullName' ? fastFullName(rt.faker) : undefined;
          if (full) {
            const original = fn;
            fn = (...args) => (args.length === 0 ? full() : original(...args));
          }
          fakers.set(path as string, fn);
        }
        const v = fn(...rest);
        return v instanceof Date ? v.toISOString() : v;
      },
      uuid: () => uuid(rt.random),
      now: () => new Date().toISOString(),
      env: (name) => rt.env(name as string),
      json: (v) => JSON.stringify(v === undefined ? null : v),
    };
  }

  /** Compiles a checked template (see analyzeTemplate). The words it uses stand for their own names. */
  compile(source: string, info: TemplateInfo): RenderFn {
    if (info.staticText !== undefined) {
      const text = info.staticText;
      return () => text;
    }
    let seq = 0;
    const nextSeq: Helper = () => ++seq;
    const program = Handlebars.parse(handlebarsSource(source)) as unknown as Node;
    // Text and mustaches in order; adjacent text joined.
    const parts: Array<string | Expr> = [];
    for (const node of program['body'] as Node[]) {
      if (node.type === 'CommentStatement') continue;
      if (node.type === 'ContentStatement') {
        const text = String(node['value']);
        const last = parts.length - 1;
        if (typeof parts[last] === 'string') parts[last] += text;
        else parts.push(text);
        continue;
      }
      parts.push(this.call(node, nextSeq));
    }
    return render(parts);
  }

  /** A helper call (a mustache or a sub-expression) as a closure; its arguments evaluated left to right. */
  private call(node: Node, nextSeq: Helper): Expr {
    const name = String((node['path'] as Node)['original']) as TemplateHelper;
    const fn = name === 'seq' ? nextSeq : this.helpers[name];
    if (!fn) throw new Error(`unknown helper ${name}`); // analyzeTemplate lets none through
    const args = ((node['params'] as Node[] | undefined) ?? []).map((p) => this.argument(p, nextSeq));
    const [a, b] = args;
    if (args.length === 0) return () => fn();
    if (args.length === 1) return () => fn((a as Expr)());
    if (args.length === 2) return () => fn((a as Expr)(), (b as Expr)());
    return () => fn(...args.map((e) => e()));
  }

  private argument(node: Node, nextSeq: Helper): Expr {
    if (node.type === 'SubExpression') return this.call(node, nextSeq);
    // A bare word stands for its own name; literals for their value.
    const value = node.type === 'PathExpression' ? String(node['original']) : node['value'];
    return () => value;
  }
}

/** Concatenates text and mustache values as text (null and undefined as ''). */
function render(parts: ReadonlyArray<string | Expr>): RenderFn {
  const piece = (p: string | Expr): Expr => (typeof p === 'string' ? () => p : p);
  const value = (v: unknown): unknown => (v == null ? '' : v);
  if (parts.length === 1) {
    const only = piece(parts[0] as string | Expr);
    return () => '' + (value(only()) as string);
  }
  const exprs = parts.map(piece);
  return () => {
    let out = '';
    for (const e of exprs) out += value(e()) as string;
    return out;
  };
}

/** An RFC 4122 version-4 UUID from the seeded stream. */
function uuid(random: () => number): string {
  const hex = (n: number): string => Math.floor(random() * 16 ** n).toString(16).padStart(n, '0');
  const variant = (8 + Math.floor(random() * 4)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}
