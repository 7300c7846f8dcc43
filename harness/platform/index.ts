import type { Clock } from '../core/clock.js';
import type { PlatformPlan } from '../scenario/plan.js';
import { ExternalPlatform } from './external.js';
import { KubernetesPlatform } from './kubernetes/index.js';
import { LocalPlatform } from './local/index.js';
import type { Platform, PlatformContext } from './types.js';

export type * from './types.js';

/** The one registry of platforms: a Kubernetes platform adds its entry here. */
const PLATFORMS: { [K in PlatformPlan['kind']]: (plan: Extract<PlatformPlan, { kind: K }>, ctx: PlatformContext, clock: Clock) => Platform } = {
  local: (plan, ctx, clock) => new LocalPlatform(plan, ctx, clock),
  external: (plan, ctx, clock) => new ExternalPlatform(plan, ctx, clock),
  kubernetes: (plan, ctx, clock) => new KubernetesPlatform(plan, ctx, clock),
};

export function createPlatform(plan: PlatformPlan, ctx: PlatformContext, clock: Clock): Platform {
  const make = PLATFORMS[plan.kind] as (p: PlatformPlan, c: PlatformContext, k: Clock) => Platform;
  return make(plan, ctx, clock);
}
