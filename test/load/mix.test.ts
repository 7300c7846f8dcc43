import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, Mix, mixProblems } from '../../harness/load/mix.js';
import { LIST_PATH, Workload, type HttpRequestSpec } from '../../harness/load/workload.js';
import { loadPlanProblems } from '../../harness/load/driver.js';
import type { MixEntry } from '../../harness/load/types.js';

const draws = (mix: Mix, n: number): number[] => Array.from({ length: n }, () => mix.next());
const spec = (): HttpRequestSpec => ({ method: '', path: '', body: undefined, headers: {} });

describe('request mix', () => {
  it('gives the same op sequence for the same seed, another for another seed', () => {
    expect(draws(new Mix(DEFAULT_MIX, 7), 1_000)).toEqual(draws(new Mix(DEFAULT_MIX, 7), 1_000));
    expect(draws(new Mix(DEFAULT_MIX, 8), 1_000)).not.toEqual(draws(new Mix(DEFAULT_MIX, 7), 1_000));
  });

  it('draws each op in proportion to its weight, and never a zero weight', () => {
    const mix: MixEntry[] = [...DEFAULT_MIX, { op: 'delete', weight: 0 }];
    const n = 100_000;
    const counts = new Array<number>(mix.length).fill(0);
    for (const op of draws(new Mix(mix, 1), n)) counts[op] = (counts[op] ?? 0) + 1;
    expect(counts.map((c) => c / n)).toEqual([0.8, 0.1, 0.05, 0.05, 0].map((p) => expect.closeTo(p, 2)));
    expect(counts[4]).toBe(0);
  });

  it('reports every problem of a mix at once', () => {
    const bad = [{ op: 'fetch', weight: 1 }, { op: 'get', weight: -1 }] as unknown as MixEntry[];
    expect(mixProblems(bad)).toEqual([
      'mix[0].op: expected one of get|list|create|update|delete, found "fetch"',
      'mix[1].weight: expected a finite number >= 0, found -1',
    ]);
    expect(mixProblems([{ op: 'get', weight: 0 }])).toEqual(['mix: expected a positive total weight, found 0']);
    expect(() => new Mix([], 1)).toThrow(/at least one entry/);
  });

  it('reports every problem of a load plan at once', () => {
    const problems = loadPlanProblems({ model: 'open', ratePerSec: 0, connections: 0, maxInFlight: 1.5, timeoutMs: 100, mix: [], seed: 1 });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/load.connections.*load.ratePerSec.*load.maxInFlight/s);
  });
});

describe('workload', () => {
  const only = (op: MixEntry['op']): MixEntry[] => [{ op, weight: 1 }];

  it('builds each operation of the Task API', () => {
    const fill = (op: MixEntry['op']): [HttpRequestSpec, number] => {
      const w = new Workload(only(op), 1, [11]);
      const req = spec();
      return [req, w.fill(req, w.nextOp())];
    };
    expect(fill('get')).toEqual([{ method: 'GET', path: '/tasks/11', body: undefined, headers: {} }, 11]);
    expect(fill('list')).toEqual([{ method: 'GET', path: LIST_PATH, body: undefined, headers: {} }, -1]);
    const [create] = fill('create');
    expect(create).toMatchObject({ method: 'POST', path: '/tasks', headers: { 'content-type': 'application/json' } });
    const body = JSON.parse(String(create.body)) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['description', 'priority', 'status', 'title']);
    expect(['pending', 'in_progress', 'done']).toContain(body.status);
    expect(body.priority).toBeGreaterThanOrEqual(1);
    expect(body.priority).toBeLessThanOrEqual(5);
    expect(fill('update')[0]).toMatchObject({ method: 'PATCH', path: '/tasks/11' });
    expect(fill('delete')[0]).toMatchObject({ method: 'DELETE', path: '/tasks/11', body: undefined });
  });

  it('records acknowledged writes and reads created tasks later', () => {
    const w = new Workload([{ op: 'create', weight: 1 }, { op: 'get', weight: 0 }], 1, [1]);
    w.acknowledge(0, -1, '{"id":42,"title":"t","status":"done","priority":2}', 10);
    w.acknowledge(0, -1, 'not json', 11);
    expect(w.writes).toEqual([{ op: 'create', id: 42, atMs: 10, fields: { id: 42, title: 't', status: 'done', priority: 2 } }]);
    expect(w.knownIds).toBe(2);
  });

  it('takes deleted ids out of the pool, never the last', () => {
    const w = new Workload(only('delete'), 1, [1, 2, 3]);
    const targets = [1, 2, 3, 4].map(() => w.fill(spec(), 0));
    expect(new Set(targets.slice(0, 3))).toEqual(new Set([1, 2, 3]));
    expect(w.knownIds).toBe(1);
    w.acknowledge(0, 2, '', 5);
    expect(w.writes).toEqual([{ op: 'delete', id: 2, atMs: 5 }]);
  });

  it('refuses a mix that needs ids when there are none', () => {
    expect(() => new Workload(DEFAULT_MIX, 1, [])).toThrow(/no known ids/);
    expect(() => new Workload(only('create'), 1, [])).not.toThrow();
  });
});
