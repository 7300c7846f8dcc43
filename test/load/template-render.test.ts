import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../harness/core/random.js';
import type { Faker } from '@faker-js/faker';
import { fastFullName, newFaker } from '../../harness/load/faker.js';
import { TEMPLATE_HELPERS, TemplateCompiler, analyzeTemplate, fakerFunction, handlebarsSource, type TemplateInfo, type TemplateRuntime } from '../../harness/load/template.js';

/** Runtimes that draw the same values in the same order: one per engine, same seed. */
function runtime(seed: number): TemplateRuntime {
  const random = seededRandom(seed);
  const pools: Record<string, string[]> = { ids: ['7', '8', '9', '10'], names: ['ada', 'grace'] };
  return {
    random,
    faker: newFaker(seed),
    pick: (pool, remove) => {
      const values = pools[pool] ?? [];
      const i = Math.floor(random() * values.length);
      const v = values[i] as string;
      if (remove) values.splice(i, 1);
      return v;
    },
    env: (name) => (name === 'TOKEN' ? 's3cret' : ''),
  };
}

/** The reference: Handlebars' own runtime with the helpers as they were registered before (noEscape). */
function handlebarsRender(source: string, info: TemplateInfo, rt: TemplateRuntime): () => string {
  const hb = Handlebars.create();
  const args = (a: unknown[]): unknown[] => a.slice(0, -1);
  hb.registerHelper('pick', (pool: string) => rt.pick(pool, false));
  hb.registerHelper('take', (pool: string) => rt.pick(pool, true));
  hb.registerHelper('int', (lo: number, hi: number) => Math.floor(lo + rt.random() * (hi - lo + 1)));
  hb.registerHelper('float', (...a: unknown[]) => {
    const [lo, hi, digits] = args(a) as [number, number, number | undefined];
    return (lo + rt.random() * (hi - lo)).toFixed(digits ?? 2);
  });
  hb.registerHelper('oneOf', (...a: unknown[]) => {
    const options = args(a);
    return options[Math.floor(rt.random() * options.length)];
  });
  hb.registerHelper('faker', (...a: unknown[]) => {
    const [path, ...rest] = args(a) as [string, ...unknown[]];
    const v = (fakerFunction(rt.faker, path) as (...x: unknown[]) => unknown)(...rest);
    return v instanceof Date ? v.toISOString() : v;
  });
  hb.registerHelper('uuid', () => {
    const hex = (n: number): string => Math.floor(rt.random() * 16 ** n).toString(16).padStart(n, '0');
    const variant = (8 + Math.floor(rt.random() * 4)).toString(16);
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
  });
  hb.registerHelper('env', (name: string) => rt.env(name));
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v === undefined ? null : v));
  const context: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const w of info.words) context[w] = w;
  let seq = 0;
  const helpers = { seq: () => ++seq };
  const fn = hb.compile(handlebarsSource(source), { noEscape: true, strict: false, knownHelpers: Object.fromEntries(TEMPLATE_HELPERS.map((h) => [h, true])), knownHelpersOnly: true });
  return () => fn(context, { helpers });
}

const TEMPLATES = [
  '/orders/{{pick ids}}',
  '/orders/{{take ids}}/items/{{pick names}}',
  '{"customer": {{json (faker "person.fullName")}}, "qty": {{int 1 9}}}',
  '{{int 1 2}}-{{int 3 4}}',
  '{{float 1 2}} {{float 0 100 4}}',
  '{{oneOf a b c}}-{{oneOf 1 "x" true}}-{{json (oneOf 1 "x" true)}}',
  '{"id": "{{uuid}}", "n": {{seq}}, "m": {{seq}}}',
  'Bearer {{env TOKEN}}{{env MISSING}}',
  '{{json (pick names)}} {{json true}} {{json 3}} {{json "a\\"b"}}',
  '  {{~int 1 9~}}  \n{{! a comment }}\n  {{faker "number.int" 5}} {{faker "string.alpha" 3}}',
  '{"a": {"b": {{int 5 5}}}}',
];

describe('template rendering', () => {
  it('renders exactly as Handlebars does, value for value, over many calls', () => {
    for (const source of TEMPLATES) {
      const info = analyzeTemplate(source);
      if ('error' in info) throw new Error(`${source}: ${info.error.expected}, found ${info.error.found}`);
      const ours = new TemplateCompiler(runtime(11)).compile(source, info);
      const theirs = handlebarsRender(source, info, runtime(11));
      for (let i = 0; i < 50; i++) {
        const [a, b] = [theirs(), ours()];
        expect(b, source).toBe(a);
      }
    }
  });

  it('joins two numbers as text (where Handlebars adds them), and renders null and undefined as nothing', () => {
    const info = analyzeTemplate('{{int 4 4}}{{int 5 5}}') as TemplateInfo;
    expect(new TemplateCompiler(runtime(1)).compile('{{int 4 4}}{{int 5 5}}', info)()).toBe('45');
    expect(handlebarsRender('{{int 4 4}}{{int 5 5}}', info, runtime(1))()).toBe('9');
    const rt = { ...runtime(1), env: () => undefined as unknown as string };
    const envInfo = analyzeTemplate('[{{env A}}]') as TemplateInfo;
    expect(new TemplateCompiler(rt).compile('[{{env A}}]', envInfo)()).toBe('[]');
    expect(handlebarsRender('[{{env A}}]', envInfo, rt)()).toBe('[]');
  });
});

describe('faker person.fullName without the pattern engine', () => {
  it('gives faker\'s own names, value for value, and leaves the seeded stream in step', () => {
    const [theirs, ours] = [newFaker(5), newFaker(5)];
    const fast = fastFullName(ours);
    if (!fast) throw new Error('the English locale should have the fast path');
    const shapes = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const name = theirs.person.fullName();
      shapes.add(name.split(/[ -]/).length);
      expect(fast()).toBe(name);
    }
    // Every pattern was met: prefix, suffix, both, and double-barrelled last names.
    expect([...shapes].sort()).toEqual([2, 3, 4, 5]);
    expect(ours.number.int(1e9)).toBe(theirs.number.int(1e9));
  });

  it('renders {{faker "person.fullName"}} as faker does, and passes arguments to faker\'s own', () => {
    const source = '{{faker "person.fullName"}}|{{faker "person.fullName" (faker "person.firstName")}}';
    const info = analyzeTemplate(source) as TemplateInfo;
    const ours = new TemplateCompiler(runtime(3)).compile(source, info);
    const theirs = handlebarsRender(source, info, runtime(3));
    for (let i = 0; i < 2_000; i++) expect(ours()).toBe(theirs());
  });

  it('is not used for a locale whose name patterns it does not read', () => {
    const en = newFaker();
    const FakerClass = en.constructor as new (options: { locale: Faker['rawDefinitions'] }) => Faker;
    const person = en.rawDefinitions.person ?? {};
    const other = (changes: Record<string, unknown>): Faker => new FakerClass({ locale: { ...en.rawDefinitions, person: { ...person, ...changes } } });
    expect(fastFullName(other({ name: [{ value: '{{person.firstName}} {{person.jobTitle}}', weight: 1 }] }))).toBeUndefined();
    expect(fastFullName(other({ last_name_pattern: { female: [{ value: '{{person.last_name.female}}', weight: 1 }] } }))).toBeUndefined();
    expect(fastFullName(other({ last_name_pattern: undefined }))).toBeUndefined();
    expect(fastFullName(en)).toBeTypeOf('function');
  });
});
