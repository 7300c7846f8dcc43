import { describe, expect, it } from 'vitest';
import { Mix, mixProblems } from '../../harness/load/mix.js';
import { Workload, SKIPPED, type HttpRequestSpec } from '../../harness/load/workload.js';
import { loadPlanProblems } from '../../harness/load/driver.js';
import { DEFAULT_TASK_API_MIX, taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { MixEntry } from '../../harness/load/types.js';
import type { WorkloadPlan } from '../../harness/load/workload-plan.js';

const named = (mix: readonly MixEntry[]) => mix.map((e) => ({ name: e.op, weight: e.weight }));
const draws = (mix: Mix, n: number): number[] => Array.from({ length: n }, () => mix.next());
const spec = (): HttpRequestSpec => ({ method: '', path: '', body: undefined, headers: {} });
const ids = (...xs: number[]): Map<string, string[]> => new Map([['taskIds', xs.map(String)]]);

describe('request weights', () => {
  it('gives the same sequence for the same seed, another for another seed', () => {
    expect(draws(new Mix(named(DEFAULT_TASK_API_MIX), 7), 1_000)).toEqual(draws(new Mix(named(DEFAULT_TASK_API_MIX), 7), 1_000));
    expect(draws(new Mix(named(DEFAULT_TASK_API_MIX), 8), 1_000)).not.toEqual(draws(new Mix(named(DEFAULT_TASK_API_MIX), 7), 1_000));
  });

  it('draws each request in proportion to its weight, and never a zero weight', () => {
    const mix = [...named(DEFAULT_TASK_API_MIX), { name: 'delete', weight: 0 }];
    const n = 100_000;
    const counts = new Array<number>(mix.length).fill(0);
    for (const op of draws(new Mix(mix, 1), n)) counts[op] = (counts[op] ?? 0) + 1;
    expect(counts.map((c) => c / n)).toEqual([0.8, 0.1, 0.05, 0.05, 0].map((p) => expect.closeTo(p, 2)));
    expect(counts[4]).toBe(0);
  });

  it('reports every problem of the weights at once', () => {
    expect(mixProblems([{ name: 'a', weight: -1 }, { name: 'b', weight: Number.NaN }])).toEqual([
      'requests[0].weight: expected a finite number >= 0, found -1',
      'requests[1].weight: expected a finite number >= 0, found NaN',
      'requests: expected a positive total weight, found 0',
    ]);
    expect(() => new Mix([], 1)).toThrow(/at least one request/);
  });

  it('reports every problem of a load plan at once', () => {
    const problems = loadPlanProblems({ model: 'open', ratePerSec: 0, connections: 0, maxInFlight: 1.5, timeoutMs: 100, workload: { pools: [], requests: [] }, seed: 1 });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/load.connections.*load.ratePerSec.*load.maxInFlight/s);
  });
});

describe('the Task API preset', () => {
  const only = (op: MixEntry['op'], pool = ids(11)): Workload => new Workload(taskApiWorkload([{ op, weight: 1 }]), 1, pool);
  const fill = (w: Workload): [HttpRequestSpec, string | null | undefined] => {
    const req = spec();
    return [req, w.fill(req, w.nextOp())];
  };

  it('builds each operation of the Task API', () => {
    expect(fill(only('get'))).toEqual([{ method: 'GET', path: '/tasks/11', body: undefined, headers: {} }, '11']);
    expect(fill(only('list'))).toEqual([{ method: 'GET', path: '/tasks?limit=20', body: undefined, headers: {} }, null]);
    const [create] = fill(only('create'));
    expect(create).toMatchObject({ method: 'POST', path: '/tasks', headers: { 'content-type': 'application/json' } });
    const body = JSON.parse(String(create.body)) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['description', 'priority', 'status', 'title']);
    expect(['pending', 'in_progress', 'done']).toContain(body.status);
    expect(body.priority).toBeGreaterThanOrEqual(1);
    expect(body.priority).toBeLessThanOrEqual(5);
    expect(fill(only('update'))[0]).toMatchObject({ method: 'PATCH', path: '/tasks/11' });
    expect(fill(only('delete'))[0]).toMatchObject({ method: 'DELETE', path: '/tasks/11', body: undefined });
  });

  it('records acknowledged writes and captures created ids into the pool', () => {
    const w = new Workload(taskApiWorkload([{ op: 'create', weight: 1 }, { op: 'get', weight: 0 }]), 1, ids(1));
    w.acknowledge(0, null, '{"id":42,"title":"t","status":"done","priority":2}', 10);
    w.acknowledge(0, null, 'not json', 11);
    expect(w.writes).toEqual([{ op: 'create', id: 42, atMs: 10, fields: { id: 42, title: 't', status: 'done', priority: 2 }, request: 'create' }]);
    expect(w.pools.get('taskIds')?.size).toBe(2);
  });

  it('takes deleted ids out of the pool, then skips deletes once it is empty', () => {
    const w = only('delete', ids(1, 2, 3));
    const targets = [1, 2, 3].map(() => fill(w)[1]);
    expect(new Set(targets)).toEqual(new Set(['1', '2', '3']));
    expect(fill(w)[1]).toBe(SKIPPED);
    expect(w.emptied()).toEqual({ taskIds: 1 });
    w.acknowledge(0, '2', '', 5);
    expect(w.writes).toEqual([{ op: 'delete', id: 2, atMs: 5, request: 'delete' }]);
  });
});

describe('a workload of user requests', () => {
  const plan: WorkloadPlan = {
    pools: [{ name: 'orderIds', capacity: 3, values: ['a1'] }],
    requests: [
      { name: 'get-order', weight: 1, method: 'GET', path: '/orders/{{pick orderIds}}', headers: { authorization: 'Bearer {{env TOKEN}}' }, capture: {} },
      { name: 'create-order', weight: 0, method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: '{"n": {{int 1 9}}, "who": {{json (faker "person.fullName")}}, "id": "{{uuid}}", "k": {{seq}}}', expect: [201], capture: { orderIds: '/id' }, write: { op: 'create', idPointer: '/num' } },
    ],
  };

  it('renders templates with seeded helpers, env values and picks; the same seed gives the same requests', () => {
    const make = (): Workload => new Workload(plan, 5, new Map(), { TOKEN: 's3cret' });
    const [a, b] = [make(), make()];
    const get = spec();
    expect(a.fill(get, 0)).toBe('a1');
    expect(get).toEqual({ method: 'GET', path: '/orders/a1', body: undefined, headers: { authorization: 'Bearer s3cret' } });
    b.fill(spec(), 0);
    const bodies = [a, b].map((w) => {
      const req = spec();
      w.fill(req, 1);
      w.fill(req, 1);
      return JSON.parse(String(req.body)) as Record<string, unknown>;
    });
    expect(bodies[0]).toEqual(bodies[1]);
    expect(bodies[0]?.['k']).toBe(2);
    expect(bodies[0]?.['n']).toBeGreaterThanOrEqual(1);
    expect(String(bodies[0]?.['id'])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('captures only from expected statuses, into a bounded pool', () => {
    const w = new Workload(plan, 5, new Map(), { TOKEN: 'x' });
    expect(w.keepsBody(1, 201)).toBe(true);
    expect(w.keepsBody(1, 200)).toBe(false);
    expect(w.keepsBody(0, 200)).toBe(false);
    for (let i = 0; i < 10; i++) w.acknowledge(1, null, JSON.stringify({ id: `o${i}`, num: i }), i);
    expect(w.pools.get('orderIds')?.size).toBe(3);
    expect(w.writes.map((x) => x.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
