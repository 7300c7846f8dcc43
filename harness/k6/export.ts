import Handlebars from 'handlebars';
import type { Problem } from '../core/errors.js';
import type { CheckPlan, Plan } from '../scenario/plan.js';
import { PHASE_NAMES } from '../scenario/plan.js';
import { handlebarsSource } from '../load/template.js';
import type { LoadPlan } from '../load/types.js';
import type { PoolPlan, RequestPlan } from '../load/workload-plan.js';

/**
 * A scenario's workload as a k6 script (`gameday export k6`, and what `driver: k6` without a
 * script runs): the open model as k6's constant-arrival-rate executor, the ramping model as
 * ramping-arrival-rate, the closed model as constant-vus; each request by weight, tagged with its
 * name (`tags: { name }`, as gameday's per-request figures); templates turned into JavaScript; the
 * scenario's checks as k6 thresholds where k6 can express them, a comment where it cannot.
 * The script reads the target from BASE_URL (`k6 run -e BASE_URL=http://… script.js`).
 */

export type ExportInput = Pick<Plan, 'name' | 'durationMs' | 'load' | 'checks' | 'phases'>;

export interface K6Export {
  script: string;
  /** Parts of the workload k6 cannot run as gameday does (paths under spec.). Non-empty: no script. */
  problems: Problem[];
}

type Node = { type: string; [k: string]: unknown };

/** A template as a JavaScript expression of type string (`seq` counts per template, as gameday's). */
function templateJs(source: string, seqName: string, where: string, problems: Problem[]): string {
  if (!source.includes('{{')) return JSON.stringify(source);
  const program = Handlebars.parse(handlebarsSource(source)) as unknown as Node;
  const parts: string[] = [];
  for (const node of program['body'] as Node[]) {
    if (node.type === 'ContentStatement') parts.push(JSON.stringify(String(node['value'])));
    else if (node.type === 'MustacheStatement') parts.push(`str(${callJs(node, seqName, where, problems)})`);
  }
  return parts.length === 0 ? '""' : parts.join(' + ');
}

function callJs(node: Node, seqName: string, where: string, problems: Problem[]): string {
  const name = String((node['path'] as Node)['original']);
  const args = ((node['params'] as Node[] | undefined) ?? []).map((p) =>
    p.type === 'SubExpression' ? callJs(p, seqName, where, problems) : p.type === 'PathExpression' ? JSON.stringify(String(p['original'])) : JSON.stringify(p['value']),
  );
  switch (name) {
    case 'pick':
      return `pick(${args[0]}, false)`;
    case 'take':
      return `pick(${args[0]}, true)`;
    case 'int':
      return `randInt(${args[0]}, ${args[1]})`;
    case 'float':
      return `randFloat(${args[0]}, ${args[1]}, ${args[2] ?? 2})`;
    case 'oneOf':
      return `oneOf([${args.join(', ')}])`;
    case 'uuid':
      return 'uuidv4()';
    case 'seq':
      return `++${seqName}.n`;
    case 'now':
      return 'new Date().toISOString()';
    case 'env':
      return `__ENV[${args[0]}]`;
    case 'json':
      return `JSON.stringify(${args[0]} === undefined ? null : ${args[0]})`;
    case 'faker':
      // k6 has no faker: numbers for number.*, random words for the rest (the script's header says so).
      return `fake(${args.join(', ')})`;
    default:
      problems.push({ path: `spec.${where}`, expected: 'a template helper', found: `{{${name}}}` });
      return '""';
  }
}

/** An integer rate for k6 (`rate`/`target` are integers) with the time unit that keeps it exact enough. */
function rateUnit(perSec: readonly number[]): { scale: number; timeUnit: string } {
  for (const [scale, timeUnit] of [[1, '1s'], [60, '1m'], [3600, '1h']] as const) {
    if (perSec.every((r) => Math.abs(r * scale - Math.round(r * scale)) < 1e-9)) return { scale, timeUnit };
  }
  return { scale: 3600, timeUnit: '1h' };
}

function executorJs(load: LoadPlan, durationMs: number): string {
  if (load.model === 'closed') {
    return `{ executor: 'constant-vus', vus: ${load.connections}, duration: '${durationMs}ms', gracefulStop: '${load.timeoutMs}ms' }`;
  }
  // A VU is a request in flight: maxInFlight is k6's maxVUs; arrivals finding none free are dropped_iterations.
  const vus = `preAllocatedVUs: ${Math.min(load.connections, load.maxInFlight)}, maxVUs: ${load.maxInFlight}`;
  if (load.model === 'open') {
    const { scale, timeUnit } = rateUnit([load.ratePerSec]);
    return `{ executor: 'constant-arrival-rate', rate: ${Math.round(load.ratePerSec * scale)}, timeUnit: '${timeUnit}', duration: '${durationMs}ms', ${vus}, gracefulStop: '${load.timeoutMs}ms' }`;
  }
  const { scale, timeUnit } = rateUnit([load.startRatePerSec, ...load.stages.map((s) => s.toPerSec)]);
  const stages = load.stages.map((s) => `{ target: ${Math.round(s.toPerSec * scale)}, duration: '${s.overMs}ms' }`).join(', ');
  return `{ executor: 'ramping-arrival-rate', startRate: ${Math.round(load.startRatePerSec * scale)}, timeUnit: '${timeUnit}', stages: [${stages}], ${vus}, gracefulStop: '${load.timeoutMs}ms' }`;
}

/**
 * A check as a k6 threshold, or why k6 cannot judge it. k6 judges the whole run from its own
 * samples: latency percentiles and the maximum (by request through the `name` tag), the request
 * rate and dropped iterations, when the check covers every phase of the run (warm-up aside: k6's
 * figures include it). Phases, RTO, the
 * server side, durability and resources exist only in gameday.
 */
function threshold(check: CheckPlan, phases: ReadonlySet<string>): { metric: string; expr: string } | { why: string } {
  // k6 cannot leave warm-up out: a check over every other phase is the closest it has.
  const whole = [...phases].every((p) => p === 'warmup' || check.during.includes(p as (typeof PHASE_NAMES)[number]));
  if (check.fault !== undefined) return { why: 'restricted to one fault: k6 has no fault spans' };
  const op = check.comparator;
  const sel = check.request !== undefined ? `{name:${check.request}}` : '';
  const latency: Record<string, string> = { 'latency.p50': 'p(50)', 'latency.p95': 'p(95)', 'latency.p99': 'p(99)', 'latency.max': 'max' };
  const stat = latency[check.metric];
  if (stat !== undefined || check.metric === 'throughput.rps' || check.metric === 'requests.dropped') {
    if (!whole) return { why: `during ${check.during.join(', ')}: k6 thresholds cover the whole run, it has no phases` };
    if (stat !== undefined) return { metric: `http_req_duration${sel}`, expr: `${stat}${op}${check.threshold}` };
    if (check.metric === 'throughput.rps') return { metric: `http_reqs${sel}`, expr: `rate${op}${check.threshold}` };
    if (check.request !== undefined) return { why: 'k6 tags a dropped iteration with its scenario only, not a request name' };
    return { metric: 'dropped_iterations', expr: `count${op}${check.threshold}` };
  }
  if (check.metric.startsWith('rto.')) return { why: 'a recovery time: k6 has no fault instant to measure from; gameday judges it from the timeline' };
  if (check.metric.startsWith('requests.')) return { why: "k6's http_req_failed counts any unexpected status, gameday counts 5xx, transport errors and drops apart; gameday judges it" };
  return { why: 'not a client-side figure k6 has' };
}

function poolJs(pool: PoolPlan, problems: Problem[]): string {
  if (pool.discover?.headers) {
    for (const [h, v] of Object.entries(pool.discover.headers)) {
      if (v.includes('{{') && !/^([^{]|\{\{env [A-Za-z_]\w*\}\})*$/.test(v)) problems.push({ path: `spec.workload.pools.${pool.name}.discover.headers.${h}`, expected: "text and {{env NAME}} only (k6's setup() reads the pages)", found: JSON.stringify(v) });
    }
  }
  const discover = pool.discover
    ? `{ path: ${JSON.stringify(pool.discover.path)}, items: ${JSON.stringify(pool.discover.items)}, next: ${JSON.stringify(pool.discover.next ?? null)}, cursorParam: ${JSON.stringify(pool.discover.cursorParam)}, max: ${pool.discover.max}, headers: {${Object.entries(pool.discover.headers ?? {})
        .map(([h, v]) => `${JSON.stringify(h)}: ${v.replace(/\{\{env ([A-Za-z_]\w*)\}\}/g, '\u0000$1\u0000').split('\u0000').map((p, i) => (i % 2 ? `str(__ENV[${JSON.stringify(p)}])` : JSON.stringify(p))).join(' + ')}`)
        .join(', ')}} }`
    : 'null';
  return `  ${JSON.stringify(pool.name)}: { capacity: ${pool.capacity}, values: ${JSON.stringify(pool.values ?? [])}, discover: ${discover} },`;
}

function requestJs(r: RequestPlan, i: number, problems: Problem[]): string {
  const at = `workload.requests[${i}]`;
  const seq = `SEQ[${i}]`;
  const headers = Object.entries(r.headers).map(([h, v]) => `${JSON.stringify(h)}: ${templateJs(v, seq, `${at}.headers.${h}`, problems)}`);
  return [
    '  {',
    `    name: ${JSON.stringify(r.name)}, weight: ${r.weight}, method: ${JSON.stringify(r.method)},`,
    `    path: () => ${templateJs(r.path, seq, `${at}.path`, problems)},`,
    `    headers: () => ({ ${headers.join(', ')} }),`,
    `    body: () => ${r.body === undefined ? 'null' : templateJs(r.body, seq, `${at}.body`, problems)},`,
    `    expect: ${JSON.stringify(r.expect ?? null)},`,
    `    capture: ${JSON.stringify(r.capture)},`,
    '  },',
  ].join('\n');
}

/** The script, or the problems that keep the workload from being exported. */
export function exportK6Script(plan: ExportInput): K6Export {
  const problems: Problem[] = [];
  const { load } = plan;
  const w = load.workload;
  const requests = w.requests.map((r, i) => requestJs(r, i, problems));
  const phases = new Set(plan.phases.map((p) => p.phase));
  const thresholds = new Map<string, string[]>();
  const comments: string[] = [];
  for (const c of plan.checks) {
    const t = threshold(c, phases);
    const label = `${c.id} ${c.name} (${c.metric} ${c.targetText}${c.request ? `, request ${c.request}` : ''})`;
    if ('why' in t) comments.push(`//   ${label}: ${t.why}.`);
    else thresholds.set(t.metric, [...(thresholds.get(t.metric) ?? []), t.expr]);
  }
  const writes = w.requests.filter((r) => r.write).map((r) => r.name);
  const fakers = w.requests.filter((r) => [r.path, r.body ?? '', ...Object.values(r.headers)].some((t) => t.includes('faker'))).map((r) => r.name);
  const script = `// k6 script exported by \`gameday export k6\` from scenario ${JSON.stringify(plan.name)}.
// Run: k6 run -e BASE_URL=http://127.0.0.1:8080 <this file>   (or spec.load.driver: k6 in the scenario)
// Load model: ${load.model}${load.model === 'open' ? ` at ${load.ratePerSec}/s` : ''}; requests tagged { name } as in the scenario.
// k6 times http_req_duration from the actual send: with an arrival-rate executor a late start shows
// up as dropped_iterations (no VU free), not as latency (coordinated omission is visible as drops).
// Checks k6 cannot express (gameday judges them from its own timeline):
${comments.length > 0 ? comments.join('\n') : '//   none'}
${fakers.length > 0 ? `// {{faker …}} in ${fakers.join(', ')}: k6 has no faker, random words (numbers for number.*) stand in; xk6-faker gives real ones.\n` : ''}${writes.length > 0 ? `// Writes (${writes.join(', ')}) are not read back after a k6 run: durability is checked with gameday's driver only.\n` : ''}import http from 'k6/http';

const BASE = __ENV.BASE_URL;
if (!BASE) throw new Error('set BASE_URL: k6 run -e BASE_URL=http://127.0.0.1:8080 <script>');

export const options = {
  scenarios: {
    workload: ${executorJs(load, plan.durationMs)},
  },
  thresholds: {
${[...thresholds].map(([m, exprs]) => `    ${JSON.stringify(m)}: ${JSON.stringify(exprs)},`).join('\n')}
  },
};

/**
 * Pools: values known before the run, pages discovered in setup(), captures. Per VU in k6 (not shared).
 * @type {Record<string, { capacity: number, values: string[], discover: null | { path: string, items: string, next: string | null, cursorParam: string, max: number, headers: Record<string, string> } }>}
 */
const POOLS = {
${w.pools.map((p) => poolJs(p, problems)).join('\n')}
};
/** Per template counters for {{seq}}. */
const SEQ = [${w.requests.map(() => '{ n: 0 }').join(', ')}];

const REQUESTS = [
${requests.join('\n')}
];
const TOTAL_WEIGHT = REQUESTS.reduce((s, r) => s + r.weight, 0);

class PoolEmpty extends Error {}
/** @param {unknown} v */
function str(v) {
  return v === null || v === undefined ? '' : String(v);
}
/** @param {number} lo @param {number} hi */
function randInt(lo, hi) {
  return Math.floor(lo + Math.random() * (hi - lo + 1));
}
/** @param {number} lo @param {number} hi @param {number} digits */
function randFloat(lo, hi, digits) {
  return (lo + Math.random() * (hi - lo)).toFixed(digits);
}
/** @param {unknown[]} options */
function oneOf(options) {
  return options[Math.floor(Math.random() * options.length)];
}
/** k6 has no faker: {{faker "number.int" …}} is an integer, any other path a few random words. @param {string} path @param {...unknown} args */
function fake(path, ...args) {
  if (path.startsWith('number.')) return randInt(0, typeof args[0] === 'number' ? args[0] : 99999);
  const words = ['alpha', 'bravo', 'delta', 'echo', 'lima', 'nova', 'orbit', 'pixel', 'quartz', 'sierra', 'tango', 'vector'];
  return Array.from({ length: randInt(2, 5) }, () => oneOf(words)).join(' ');
}
function uuidv4() {
  /** @param {number} n */
  const hex = (n) => Math.floor(Math.random() * 16 ** n).toString(16).padStart(n, '0');
  return \`\${hex(8)}-\${hex(4)}-4\${hex(3)}-\${(8 + Math.floor(Math.random() * 4)).toString(16)}\${hex(3)}-\${hex(12)}\`;
}

/** @type {Record<string, string[]>} */
const pools = {};
let seeded = false;
/** @param {string} name @param {boolean} remove */
function pick(name, remove) {
  const values = pools[name] || [];
  if (values.length === 0) throw new PoolEmpty(name);
  const i = Math.floor(Math.random() * values.length);
  const v = values[i];
  if (remove) {
    values[i] = values[values.length - 1];
    values.pop();
  }
  return v;
}

/**
 * The values at a JSON Pointer, a \`*\` token standing for every element.
 * @param {unknown} doc @param {string} pointer @returns {unknown[]}
 */
function at(doc, pointer) {
  if (pointer === '') return [doc];
  /** @type {unknown[]} */
  let nodes = [doc];
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    /** @type {unknown[]} */
    const next = [];
    for (const n of nodes) {
      if (n === null || typeof n !== 'object') continue;
      const o = /** @type {Record<string, unknown>} */ (n);
      if (token === '*') next.push(...Object.values(o));
      else if (token in o) next.push(o[token]);
    }
    nodes = next;
  }
  return nodes;
}

/** Discovered pools, read page by page before the load (setup requests are not part of the load). */
export function setup() {
  /** @type {Record<string, string[]>} */
  const found = {};
  for (const [name, pool] of Object.entries(POOLS)) {
    const d = pool.discover;
    if (!d) continue;
    const values = [];
    /** @type {string | null} */
    let path = d.path;
    for (let page = 0; path !== null && page < 10000 && values.length < d.max; page++) {
      /** @type {import('k6/http').RefinedResponse<'text'>} */
      const res = http.get(BASE + path, { headers: d.headers, tags: { name: \`setup:\${name}\` } });
      if (res.status !== 200) throw new Error(\`discovering pool \${name}: \${path} answered \${res.status}\`);
      /** @type {unknown} */
      const body = res.json();
      for (const v of at(body, d.items)) values.push(String(v));
      /** @type {unknown[]} */
      const next = d.next === null ? [] : at(body, d.next);
      /** @type {string | null} */
      const n = next.length > 0 && next[0] !== null && next[0] !== '' ? String(next[0]) : null;
      path = n === null ? null : n.startsWith('/') ? n : n.startsWith(BASE) ? n.slice(BASE.length) : \`\${d.path}\${d.path.includes('?') ? '&' : '?'}\${d.cursorParam}=\${encodeURIComponent(n)}\`;
    }
    found[name] = values.slice(0, d.max);
  }
  return { pools: found };
}

/** @param {{ pools: Record<string, string[]> }} data */
export default function (data) {
  if (!seeded) {
    for (const [name, pool] of Object.entries(POOLS)) pools[name] = [...pool.values, ...((data && data.pools[name]) || [])].slice(0, pool.capacity);
    seeded = true;
  }
  let roll = Math.random() * TOTAL_WEIGHT;
  let r = REQUESTS[REQUESTS.length - 1];
  for (const candidate of REQUESTS) {
    roll -= candidate.weight;
    if (roll < 0) {
      r = candidate;
      break;
    }
  }
  /** @type {string} */ let url;
  /** @type {Record<string, string>} */ let headers;
  /** @type {string | null} */ let body;
  try {
    url = BASE + r.path();
    headers = r.headers();
    body = r.body();
  } catch (e) {
    if (e instanceof PoolEmpty) return; // gameday counts these as skipped; here the iteration sends nothing
    throw e;
  }
  const res = http.request(r.method, url, body, {
    headers,
    tags: { name: r.name },
    ...(r.expect ? { responseCallback: http.expectedStatuses(...r.expect) } : {}),
  });
  const ok = r.expect ? r.expect.includes(res.status) : res.status >= 100 && res.status < 400;
  if (!ok || Object.keys(r.capture).length === 0) return;
  let doc;
  try {
    doc = res.json();
  } catch {
    return;
  }
  for (const [pool, pointer] of Object.entries(r.capture)) {
    const values = pools[pool] || (pools[pool] = []);
    const capacity = POOLS[pool] ? POOLS[pool].capacity : 100000;
    for (const v of at(doc, pointer)) {
      if (v === null || v === undefined || typeof v === 'object') continue;
      if (values.length < capacity) values.push(String(v));
      else values[Math.floor(Math.random() * values.length)] = String(v);
    }
  }
}
`;
  return { script, problems };
}
