import type { Finding } from './types.js';

const TIMEOUT_MS = 5_000;

/**
 * SC-002: OpenCost's allocation API aggregated by the team label (the seed's query,
 * /allocation/compute?window=1d&aggregate=label:team) returns data for the team. No URL: not
 * evaluated (never a pass); unreachable or an error answer: not judged, an environment problem.
 */
export async function costVisibility(opencost: { url: string; window: string } | undefined, team: string | undefined, signal?: AbortSignal): Promise<Finding> {
  if (!opencost) {
    return { actual: null, detail: 'no OpenCost URL', shown: 'not evaluated', notEvaluated: 'needs OpenCost, which the local platform does not have (spec.conformance.opencost.url or --opencost <url>, e.g. a port-forward to svc/opencost 9003)' };
  }
  if (!team) return { actual: 1, detail: 'no team label among the cost labels to aggregate by', shown: '1 problem' };
  const url = `${opencost.url.replace(/\/+$/, '')}/allocation/compute?window=${encodeURIComponent(opencost.window)}&aggregate=label:team`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    const text = await res.text();
    if (!res.ok) return { actual: null, detail: `OpenCost at ${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`, shown: 'not read', environment: true };
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return { actual: null, detail: `OpenCost at ${url} answered something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`, shown: 'not read', environment: true };
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.message);
    return { actual: null, detail: `OpenCost unreachable at ${url}: ${why}`, shown: 'not read', environment: true };
  }
  const sets = (body as { data?: unknown }).data;
  if (!Array.isArray(sets)) return { actual: null, detail: `OpenCost at ${url} answered without a data array`, shown: 'not read', environment: true };
  const entries = sets.flatMap((s) => (s && typeof s === 'object' ? [(s as Record<string, { totalCost?: unknown }>)[team]] : [])).filter((e) => e !== undefined);
  if (entries.length === 0) {
    const teams = [...new Set(sets.flatMap((s) => (s && typeof s === 'object' ? Object.keys(s as object) : [])))];
    return { actual: 1, detail: `OpenCost (${url}) has no allocation for team ${team}${teams.length ? ` (teams: ${teams.join(', ')})` : ' (no data at all)'}`, shown: 'no data' };
  }
  const total = entries.reduce((sum, e) => sum + (typeof e?.totalCost === 'number' ? e.totalCost : 0), 0);
  return { actual: 0, detail: `OpenCost (${url}): team ${team} totalCost ${total.toFixed(4)} over ${opencost.window} in ${entries.length} set(s)`, shown: `Returns data (${team}: ${total.toFixed(4)})` };
}
