import type { MixEntry } from '../types.js';
import { DEFAULT_POOL_CAPACITY, type RequestPlan, type WorkloadPlan } from '../workload-plan.js';

/**
 * The reference Task API's mix as a workload preset: the only place in the load stage that knows
 * its routes. `load.mix` weights (get, create, update, list, delete) pick which requests run.
 */
export const TASK_API_PRESET = 'task-api';

const STATUS = '{{oneOf "pending" "in_progress" "done"}}';
const CREATE_BODY = `{"title": {{json (faker "hacker.phrase")}}, "description": {{json (faker "lorem.sentence")}}, "status": "${STATUS}", "priority": {{int 1 5}}}`;
const UPDATE_BODY = `{"status": "${STATUS}", "priority": {{int 1 5}}}`;
const JSON_HEADERS = { 'content-type': 'application/json' };

const REQUESTS: Record<MixEntry['op'], Omit<RequestPlan, 'weight'>> = {
  get: { name: 'get', method: 'GET', path: '/tasks/{{pick taskIds}}', headers: {}, expect: [200], capture: {} },
  create: { name: 'create', method: 'POST', path: '/tasks', headers: JSON_HEADERS, body: CREATE_BODY, expect: [201], capture: { taskIds: '/id' }, write: { op: 'create', idPointer: '/id' } },
  update: { name: 'update', method: 'PATCH', path: '/tasks/{{pick taskIds}}', headers: JSON_HEADERS, body: UPDATE_BODY, expect: [200], capture: {}, write: { op: 'update' } },
  list: { name: 'list', method: 'GET', path: '/tasks?limit=20', headers: {}, expect: [200], capture: {} },
  delete: { name: 'delete', method: 'DELETE', path: '/tasks/{{take taskIds}}', headers: {}, expect: [204], capture: {}, write: { op: 'delete' } },
};

export const DEFAULT_TASK_API_MIX: readonly MixEntry[] = Object.freeze([
  { op: 'get', weight: 80 },
  { op: 'create', weight: 10 },
  { op: 'update', weight: 5 },
  { op: 'list', weight: 5 },
]);

/** The Task API workload with the given weights (requests of weight 0 are left out). */
export function taskApiWorkload(mix: readonly MixEntry[] = DEFAULT_TASK_API_MIX): WorkloadPlan {
  const requests = mix.filter((e) => e.weight > 0).map((e) => ({ ...REQUESTS[e.op], headers: { ...REQUESTS[e.op].headers }, capture: { ...REQUESTS[e.op].capture }, weight: e.weight }));
  const needsIds = requests.some((r) => r.path.includes('taskIds'));
  return {
    preset: TASK_API_PRESET,
    pools: needsIds
      ? [{ name: 'taskIds', capacity: DEFAULT_POOL_CAPACITY, platformSeeded: true, discover: { path: '/tasks?limit=100', items: ['', 'items', '*', 'id'].join('/'), next: '/next_cursor', cursorParam: 'cursor', max: DEFAULT_POOL_CAPACITY } }]
      : [{ name: 'taskIds', capacity: DEFAULT_POOL_CAPACITY }],
    requests,
  };
}
