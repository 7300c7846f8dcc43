import type { Clock } from '../core/clock.js';
import type { PlatformPlan } from '../scenario/plan.js';
import { ExternalPlatform } from './external.js';
import { LocalPlatform } from './local/index.js';
import type { Platform, PlatformContext } from './types.js';

export type * from './types.js';

/**
 * The one registry of platforms. The Kubernetes platform loads only when a run uses it: its client
 * library alone costs a local run about 0.6 s of start-up.
 */
const PLATFORMS: { [K in PlatformPlan['kind']]: (plan: Extract<PlatformPlan, { kind: K }>, ctx: PlatformContext, clock: Clock) => Platform | Promise<Platform> } = {
  local: (plan, ctx, clock) => new LocalPlatform(plan, ctx, clock),
  external: (plan, ctx, clock) => new ExternalPlatform(plan, ctx, clock),
  kubernetes: async (plan, ctx, clock) => new (await import('./kubernetes/index.js')).KubernetesPlatform(plan, ctx, clock),
};

export async function createPlatform(plan: PlatformPlan, ctx: PlatformContext, clock: Clock): Promise<Platform> {
  const make = PLATFORMS[plan.kind] as (p: PlatformPlan, c: PlatformContext, k: Clock) => Platform | Promise<Platform>;
  return make(plan, ctx, clock);
}
