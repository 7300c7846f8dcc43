import { ExecFault } from '../exec.js';
import { execAction } from './planning.js';
import { defineFaultKind } from './types.js';

/** A user's inject/recover commands; needs no platform. */
export const exec = defineFaultKind({
  kind: 'exec',
  needsPlatform: false,
  plan: (f, base, path, _platform, problem, where) => ({
    kind: 'exec',
    ...base,
    inject: execAction(f.inject, `${path}.inject`, where, problem),
    ...(f.recover ? { recover: execAction(f.recover, `${path}.recover`, where, problem) } : {}),
  }),
  injector: (plan) => new ExecFault(plan),
  effectEvents: ['exec.injected'],
  spanInject: true,
});
