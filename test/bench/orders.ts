// The workloads of the templated and open-model bench parts, apart from autocannon so that a
// measured process loads only what its side uses.
import type autocannon from 'autocannon';
import { taskApiWorkload } from '../../harness/load/presets/task-api.js';
import type { WorkloadPlan } from '../../harness/load/workload-plan.js';

export const SEEDED_IDS = Array.from({ length: 1000 }, (_, i) => String(i + 1));

/**
 * Three requests against workload-target.ts: reads pick ids from a pool that the create's capture
 * feeds, the create's body is a template (faker name, a random int), and a page of the list.
 */
export const ORDERS_WORKLOAD: WorkloadPlan = {
  pools: [{ name: 'orderIds', capacity: 10_000, values: SEEDED_IDS }],
  requests: [
    { name: 'get-order', weight: 60, method: 'GET', path: '/orders/{{pick orderIds}}', headers: {}, expect: [200], capture: {} },
    {
      name: 'create-order',
      weight: 20,
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: '{"customer": {{json (faker "person.fullName")}}, "qty": {{int 1 9}}}',
      expect: [201],
      capture: { orderIds: '/id' },
    },
    { name: 'list-orders', weight: 20, method: 'GET', path: '/orders?limit=20', headers: {}, expect: [200], capture: {} },
  ],
};

/** The Task API preset's reads, the plain workload beside the templated one. */
export const PLAIN_WORKLOAD = taskApiWorkload([{ op: 'get', weight: 1 }]);

/**
 * The same three routes as autocannon sends them with nothing templated: the same weights, a
 * random id of the seeded ones, a constant body. The reference for ORDERS_WORKLOAD.
 */
const BARE_BODY = '{"customer": "Ada Lovelace", "qty": 3}';
const BARE_HEADERS = { 'content-type': 'application/json' };
export function bareOrderRequest(): Pick<autocannon.Request, 'method' | 'path' | 'headers' | 'body'> {
  const r = Math.random() * 100;
  if (r < 60) return { method: 'GET', path: `/orders/${1 + Math.floor(Math.random() * SEEDED_IDS.length)}` };
  if (r < 80) return { method: 'POST', path: '/orders', headers: BARE_HEADERS, body: BARE_BODY };
  return { method: 'GET', path: '/orders?limit=20' };
}
