import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { planFromText } from '../../harness/scenario/index.js';

const tempDir = lazyTempDir('gd-workload-');

const scenario = (workload: string, extra = ''): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: orders }
spec:
  duration: 30s
  target: { url: "http://127.0.0.1:8080" }
  load: { model: open, rate: 50${extra} }
  workload:
${workload
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  checks: [{ id: P95, name: p95, metric: latency.p95, target: "< 500ms" }]
`;

const plan = (text: string, env: Record<string, string> = {}) => planFromText(text, { env, file: join(tempDir(), 'scenario.yaml') });
const problemsOf = (text: string, env: Record<string, string> = {}) => (plan(text, env).problems ?? []).map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);

const ORDERS = `
pools:
  orderIds: { discover: { path: "/orders?limit=100", items: /items/*/id, next: /next } }
requests:
  - { name: get-order, weight: 80, method: GET, path: "/orders/{{pick orderIds}}" }
  - name: create-order
    weight: 20
    method: POST
    path: /orders
    headers: { content-type: application/json, authorization: "Bearer {{env ORDERS_TOKEN}}" }
    body: '{"customer": "{{faker "person.fullName"}}", "qty": {{int 1 9}}}'
    expect: { status: [201] }
    capture: { orderIds: /id }
`;

describe('a workload of named requests', () => {
  it('becomes a plan: requests, pools, captures, expected statuses', () => {
    const { plan: p, problems } = plan(scenario(ORDERS), { ORDERS_TOKEN: 't' });
    expect(problems).toBeUndefined();
    const w = p!.load.workload;
    expect(w.preset).toBeUndefined();
    expect(w.requests.map((r) => [r.name, r.weight, r.method, r.expect ?? null])).toEqual([
      ['get-order', 80, 'GET', null],
      ['create-order', 20, 'POST', [201]],
    ]);
    expect(w.requests[1]?.capture).toEqual({ orderIds: '/id' });
    expect(w.pools).toEqual([{ name: 'orderIds', capacity: 100_000, discover: { path: '/orders?limit=100', items: '/items/*/id', next: '/next', cursorParam: 'cursor', max: 100_000 } }]);
  });

  it('keeps the Task API preset the default, with load.mix weights', () => {
    const text = scenario('preset: task-api', ', mix: { get: 50, list: 50 }');
    const w = plan(text).plan!.load.workload;
    expect(w.preset).toBe('task-api');
    expect(w.requests.map((r) => [r.name, r.weight])).toEqual([['get', 50], ['list', 50]]);
  });

  it('reads pool values from CSV and JSON data files next to the scenario', () => {
    writeFileSync(join(tempDir(), 'customers.csv'), 'id,name\n1,Ada\n2,"Grace, H."\n');
    writeFileSync(join(tempDir(), 'skus.json'), JSON.stringify([{ sku: 'a' }, { sku: 'b' }, { sku: 7 }]));
    const text = scenario(`
pools:
  customers: { file: customers.csv, column: name }
  skus: { file: skus.json, column: sku }
requests:
  - { name: r, path: "/c/{{pick customers}}/{{pick skus}}" }
`);
    const w = plan(text).plan!.load.workload;
    expect(w.pools.map((p) => [p.name, p.values])).toEqual([
      ['customers', ['Ada', 'Grace, H.']],
      ['skus', ['a', 'b', '7']],
    ]);
  });

  it('reports every workload problem with its path, what was expected and what was found', () => {
    writeFileSync(join(tempDir(), 'broken.json'), '{"not": "an array"');
    const text = scenario(`
pools:
  lonely: { capacity: 10 }
  data: { file: broken.json }
  missing: { file: nowhere.csv }
requests:
  - { name: a, weight: 0, path: "/a/{{pick lonely}}" }
  - { name: b, weight: 0, path: "/b/{{shout x}}" }
  - { name: c, weight: 0, path: "/c/{{pick nope}}" }
  - { name: d, weight: 0, method: POST, path: /d, body: '{"a": {{int 1}}' }
  - { name: e, weight: 0, path: "/e", capture: { got: "id" } }
  - { name: f, weight: 0, path: "/f/{{#each x}}y{{/each}}" }
  - { name: g, weight: 0, path: "/g", headers: { authorization: "{{env NOPE_TOKEN}}" } }
  - { name: h, weight: 0, method: GET, path: "/h", body: "x" }
  - { name: i, weight: 0, path: "/i/{{faker \\"no.suchThing\\"}}" }
  - { name: a, weight: 0, path: "/a2 {{oops" }
`);
    const found = problemsOf(text);
    const expectOne = (path: string, re: RegExp): void => {
      const hits = found.filter((f) => f.startsWith(`${path}: `));
      expect({ path, hits }).toEqual({ path, hits: [expect.stringMatching(re)] });
    };
    expectOne('spec.workload.pools.data.file', /a JSON array.*broken\.json|JSON file.*broken\.json/);
    expectOne('spec.workload.pools.missing.file', /readable regular file.*nowhere\.csv.*ENOENT/);
    expectOne('spec.workload.requests[0].path', /pool "lonely" filled by discover, file, values or a capture/);
    expectOne('spec.workload.requests[1].path', /a helper: pick, take.*found \{\{shout\}\}/);
    expectOne('spec.workload.requests[2].path', /a pool defined in spec.workload.pools.*found "nope"/);
    expectOne('spec.workload.requests[3].body', /\{\{int\}\} with 2 argument\(s\), found 1/);
    expectOne('spec.workload.requests[4].capture.got', /JSON Pointer starting with "\/"/);
    expectOne('spec.workload.requests[5].path', /no blocks/);
    expectOne('spec.workload.requests[6].headers.authorization', /environment variable NOPE_TOKEN to be set/);
    expectOne('spec.workload.requests[7].body', /no body for GET/);
    expectOne('spec.workload.requests[8].path', /a faker function path.*no\.suchThing/);
    expect(found.some((f) => f.startsWith('spec.workload.requests[9].name: ') && /used once/.test(f))).toBe(true);
    expect(found.some((f) => f.startsWith('spec.workload.requests[9].path: ') && /valid template/.test(f))).toBe(true);
    expectOne('spec.workload.requests', /at least one request with weight > 0/);
  });

  it('refuses a mix or a preset next to requests', () => {
    const text = scenario('preset: task-api\nrequests: [{ name: a, path: /a }]', ', mix: { get: 1 }');
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^spec.workload.preset: expected either a preset or requests/), expect.stringMatching(/^spec.load.mix: expected no mix with spec.workload.requests/)]),
    );
  });
});
