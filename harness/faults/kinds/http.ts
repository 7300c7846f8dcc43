import { HttpFault } from '../http.js';
import { httpAction } from './planning.js';
import { defineFaultKind } from './types.js';

/** A user's inject/recover requests (a fault proxy's or a feature-flag service's API); needs no platform. */
export const http = defineFaultKind({
  kind: 'http',
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
