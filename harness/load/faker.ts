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
