import { NetworkDelay } from '../network-delay.js';
import { ms } from './planning.js';
import { defineFaultKind } from './types.js';

/** NetworkChaos `delay` on the path replicas → PostgreSQL. */
export const networkDelay = defineFaultKind({
  kind: 'network-delay',
  needsPlatform: true,
  plan: (f, base, path, _platform, problem) => {
    const latencyMs = ms(f.delay.latency);
    const jitterMs = ms(f.delay.jitter);
    if (jitterMs > latencyMs) problem(`${path}.delay.jitter`, `at most the latency (${f.delay.latency})`, f.delay.jitter);
    return { kind: 'network-delay', ...base, selector: f.selector, direction: f.direction, delay: { latencyMs, jitterMs, correlation: Number(f.delay.correlation) } };
  },
  platformNeeds: () => ({ databaseProxy: true }),
  checkApp: (_plan, app, path, problem) => {
    if (!app.database) problem(`${path}.kind`, 'a fault that needs no database (spec.platform.local.app has database: false; set it to true)', '"network-delay"');
  },
  injector: (plan) => new NetworkDelay(plan),
  effectEvents: ['network.delayed'],
});
