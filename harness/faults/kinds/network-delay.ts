import { z } from 'zod';
import type { FaultAct } from '../../core/journal.js';
import { DURATION_BOUNDS as B } from '../../scenario/limits.js';
import type { NetworkDelaySpec } from '../../scenario/plan.js';
import { NetworkDelay } from '../network-delay.js';
import { ms } from './planning.js';
import { defineFaultKind, type FaultSchemaParts } from './types.js';

export interface NetworkDelayFaultPlan {
  kind: 'network-delay';
  name: string;
  atMs: number;
  durationMs: number;
  /** Which path is delayed: replicas → PostgreSQL. */
  selector: 'database';
  direction: 'to' | 'from' | 'both';
  delay: NetworkDelaySpec;
}

declare module '../../scenario/plan.js' {
  interface FaultPlans {
    'network-delay': NetworkDelayFaultPlan;
  }
}

declare module '../../core/journal.js' {
  interface JournalEventTypes {
    'network.delayed': FaultAct<{ latencyMs: number; jitterMs: number; correlation: number; direction: string }>;
    'network.restored': FaultAct;
  }
}

/** NetworkChaos `delay`, with its field names and units, on the path replicas → PostgreSQL. */
export const networkDelay = defineFaultKind({
  kind: 'network-delay',
  document: (p: FaultSchemaParts) =>
    p.obj({
      name: p.dnsLabel,
      kind: z.literal('network-delay'),
      at: p.duration(B.faultAt),
      duration: p.duration(B.faultDuration),
      selector: z.enum(['database']).default('database'),
      direction: z.enum(['to', 'from', 'both']).default('to'),
      delay: p.obj({
        latency: p.duration(B.networkLatency),
        jitter: p.duration(B.networkLatency).default('0ms'),
        correlation: z.string().regex(/^(100|[1-9]?\d)(\.\d+)?$/, 'a percentage string "0".."100"').default('0'),
      }),
    }),
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
