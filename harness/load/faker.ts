import { createRequire } from 'node:module';
import type { Faker } from '@faker-js/faker';

let english: Faker | undefined;

/**
 * A new Faker with the English locale (en over base), seeded when `seed` is given. Loaded from
 * faker's `locale/en` entry on first use: its main entry loads every locale (about 0.2 s of CPU
 * and 30 MB of memory), of which a workload uses one. Same definitions, so the same values per seed.
 */
export function newFaker(seed?: number): Faker {
  english ??= (createRequire(import.meta.url)('@faker-js/faker/locale/en') as { faker: Faker }).faker;
  const FakerClass = english.constructor as new (options: { locale: Faker['rawDefinitions'] }) => Faker;
  const faker = new FakerClass({ locale: english.rawDefinitions });
  if (seed !== undefined) faker.seed(seed);
  return faker;
}

type Sex = 'female' | 'male';
/** The placeholders of `person.name`, in the order faker's mustache fills them (its draws come in this order). */
const NAME_KEYS = ['person.prefix', 'person.firstName', 'person.middleName', 'person.lastName', 'person.suffix'] as const;
const LAST_NAME = '{{person.last_name.generic}}';

/** A pattern split into text and placeholders: odd entries are placeholders. */
function splitPattern(pattern: string, placeholder: RegExp): string[] | undefined {
  const parts = pattern.split(placeholder);
  // Text left with braces would be a placeholder this split does not know.
  return parts.some((p, i) => i % 2 === 0 && p.includes('{{')) ? undefined : parts;
}

/**
 * `faker.person.fullName()` without faker's pattern engine, value for value: the same draws in the
 * same order (sex, first name, last name, pattern, then prefix, middle name and suffix as the
 * pattern names them), so the same names per seed and the stream stays in step with every other
 * faker call. faker's `fullName` fills its pattern through `helpers.mustache`, which builds a RegExp
 * per placeholder per call, and the last name through `helpers.fake`, which parses its pattern per
 * call: about 6.5 µs a name, against about 1.5 µs here. Undefined (use faker's own) when the
 * locale's patterns are not of the shape this reads (the English locale's are): `person.name`
 * with only the five placeholders above, last names from generic `{{person.last_name.generic}}`
 * patterns.
 */
export function fastFullName(faker: Faker): (() => string) | undefined {
  const raw = faker.rawDefinitions.person;
  const names = raw?.name;
  const lastPatterns = (raw?.last_name_pattern as Record<string, unknown> | undefined) ?? undefined;
  const lastNames = raw?.last_name as Record<string, unknown> | undefined;
  if (!Array.isArray(names) || names.length === 0 || !lastPatterns || !lastNames) return undefined;
  if (Object.keys(lastPatterns).join() !== 'generic' || Object.keys(lastNames).join() !== 'generic') return undefined;
  const lastList = lastNames['generic'];
  const lastPatternList = lastPatterns['generic'];
  if (!Array.isArray(lastList) || lastList.length === 0 || !Array.isArray(lastPatternList) || lastPatternList.length === 0) return undefined;
  const nameKey = /\{\{(person\.[a-zA-Z]+)\}\}/;
  const compiled: Array<{ weight: number; value: string[] }> = [];
  for (const n of names as Array<{ weight: number; value: string }>) {
    const parts = splitPattern(n.value, new RegExp(nameKey.source, 'g'));
    if (!parts || !parts.every((p, i) => i % 2 === 0 || (NAME_KEYS as readonly string[]).includes(p))) return undefined;
    compiled.push({ weight: n.weight, value: parts });
  }
  // Last-name patterns: how many last names each joins, and the text between them.
  const lastCompiled: Array<{ weight: number; value: string[] }> = [];
  for (const p of lastPatternList as Array<{ weight: number; value: string }>) {
    const parts = p.value.split(LAST_NAME);
    if (parts.some((t) => t.includes('{{'))) return undefined;
    lastCompiled.push({ weight: p.weight, value: parts });
  }
  const { helpers, person } = faker;
  const sexes: Sex[] = ['female', 'male'];
  const lastName = (): string => {
    // faker: weightedArrayElement of the patterns, then each placeholder left to right, one arrayElement each.
    const parts = helpers.weightedArrayElement(lastCompiled);
    let out = parts[0] as string;
    for (let i = 1; i < parts.length; i++) out += (helpers.arrayElement(lastList) as string) + (parts[i] as string);
    return out;
  };
  return () => {
    const sex = helpers.arrayElement(sexes);
    const first = person.firstName(sex);
    const last = lastName();
    const parts = helpers.weightedArrayElement(compiled);
    const values: string[] = new Array<string>(parts.length);
    for (const key of NAME_KEYS) {
      for (let i = 1; i < parts.length; i += 2) {
        if (parts[i] !== key) continue;
        values[i] = key === 'person.firstName' ? first : key === 'person.lastName' ? last : key === 'person.prefix' ? person.prefix(sex) : key === 'person.middleName' ? person.middleName(sex) : person.suffix();
      }
    }
    let out = parts[0] as string;
    for (let i = 1; i < parts.length; i += 2) out += (values[i] as string) + (parts[i + 1] as string);
    return out;
  };
}
