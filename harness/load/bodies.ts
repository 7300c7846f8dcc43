import { Faker, base, en } from '@faker-js/faker';

/**
 * Request bodies for writes, generated once per run from the seed and encoded up front:
 * building a body per request would put faker and JSON.stringify on the hot path.
 */
export const BODY_POOL_SIZE = 256;

const STATUSES = ['pending', 'in_progress', 'done'] as const;

export interface BodyPool {
  create: readonly Buffer[];
  update: readonly Buffer[];
}

export function createBodyPool(seed: number, size = BODY_POOL_SIZE): BodyPool {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(seed);
  const create: Buffer[] = [];
  const update: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    create.push(encode(createBody(faker)));
    update.push(encode(updateBody(faker, i)));
  }
  return { create, update };
}

/** POST /tasks: title, description, status, priority 1..5. */
function createBody(faker: Faker): Record<string, unknown> {
  return {
    title: faker.hacker.phrase().slice(0, 120),
    description: faker.lorem.sentences({ min: 1, max: 3 }).slice(0, 500),
    status: faker.helpers.arrayElement(STATUSES),
    priority: faker.number.int({ min: 1, max: 5 }),
  };
}

/** PATCH /tasks/:id: a partial update, cycling through the shapes a client sends. */
function updateBody(faker: Faker, i: number): Record<string, unknown> {
  switch (i % 3) {
    case 0:
      return { status: faker.helpers.arrayElement(STATUSES) };
    case 1:
      return { priority: faker.number.int({ min: 1, max: 5 }) };
    default:
      return { title: faker.hacker.phrase().slice(0, 120), status: faker.helpers.arrayElement(STATUSES) };
  }
}

function encode(body: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(body), 'utf8');
}
