import { z } from 'zod';
import type { FaultAct } from '../../core/journal.js';
import { canonicalHost, isHostAllowed } from '../../core/loopback.js';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import type { HttpActionPlan } from '../../scenario/plan.js';
import { HttpFault } from '../http.js';
import { ms, namedRecord } from './planning.js';
import { defineFaultKind, type DocumentOf, type FaultPlanContext, type FaultSchemaParts, type Report } from './types.js';

/** Sends the `inject` request at the fault's start and `recover` at its end; needs no platform. */
export interface HttpFaultPlan {
  kind: 'http';
  name: string;
  atMs: number;
  durationMs: number;
  inject: HttpActionPlan;
  recover?: HttpActionPlan;
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    http: HttpFaultPlan;
  }
}

declare module '../../core/journal.js' {
  interface JournalEventTypes {
    'http.injected': FaultAct;
    'http.inject-skipped': FaultAct;
    'http.inject-interrupted': FaultAct;
    'http.inject-failed': FaultAct;
    'http.recovered': FaultAct;
    'http.recover-failed': FaultAct;
  }
}

/** http: one request (a fault proxy's or a feature-flag service's API); header values and body never reach the journal. */
const action = (p: FaultSchemaParts) =>
  p.obj({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    url: z.url().max(4096),
    headers: namedRecord(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name (an RFC 9110 token)', 8192).optional(),
    body: z.string().max(65_536).optional(),
    expect: p.obj({ status: z.array(z.number().int().min(100).max(599)).min(1).max(100) }).optional(),
    timeout: p.duration(B.faultActionTimeout).default('10s'),
  });

const document = (p: FaultSchemaParts) =>
  p.obj({
    name: p.dnsLabel,
    kind: z.literal('http'),
    at: p.duration(B.faultAt),
    duration: p.duration(B.faultDuration),
    inject: action(p),
    recover: action(p).optional(),
  });

/** A user's inject/recover requests (a fault proxy's or a feature-flag service's API); needs no platform. */
export const http = defineFaultKind({
  kind: 'http',
  document,
  needsPlatform: false,
  plan: (f, base, path, _platform, problem, where) => ({
    kind: 'http',
    ...base,
    inject: httpAction(f.inject, `${path}.inject`, where, problem),
    ...(f.recover ? { recover: httpAction(f.recover, `${path}.recover`, where, problem) } : {}),
  }),
  injector: (plan) => new HttpFault(plan),
  effectEvents: ['http.injected'],
  spanInject: true,
});

/** http(s) to loopback, or to a host allowed by spec.target.allowHosts or --allow-host (canonical, from toPlan). */
function httpAction(a: DocumentOf<typeof document>['inject'], path: string, where: FaultPlanContext, problem: Report): HttpActionPlan {
  const url = new URL(a.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problem(`${path}.url`, 'an http:// or https:// URL', url.protocol);
  const allowed = where.allowHosts.map(canonicalHost).filter((h): h is string => h !== undefined);
  if (!isHostAllowed(url.hostname, allowed)) {
    problem(`${path}.url`, 'a loopback host (127.0.0.0/8, [::1], localhost) or a host listed in spec.target.allowHosts / --allow-host', url.hostname);
  }
  if (url.username || url.password) problem(`${path}.url`, 'no credentials in the URL (use headers: they are never journalled)', 'user info');
  return {
    method: a.method,
    url: a.url,
    headers: a.headers ?? {},
    ...(a.body !== undefined ? { body: a.body } : {}),
    ...(a.expect ? { expectStatus: a.expect.status } : {}),
    timeoutMs: ms(a.timeout),
    ...(allowed.length > 0 ? { allowHosts: allowed } : {}),
  };
}
