import { faultKind, faultKindModules, FAULT_KIND_MODULES, type FaultKindModule, type FaultPlanContext, type PlatformShape } from '../faults/kinds/index.js';
import type { FaultPlan } from './plan.js';
import type { FaultDocument } from './schema.js';
import { ms } from '../faults/kinds/planning.js';

export type { FaultPlanContext, PlatformShape } from '../faults/kinds/index.js';

type Report = (path: string, expected: string, found: string) => void;

/** One fault document → its plan (by its kind's module, faults/kinds), reporting what does not fit the platform. */
export function faultPlan(f: FaultDocument, i: number, platform: PlatformShape, problem: Report, where: FaultPlanContext = { baseDir: process.cwd(), allowHosts: [] }): FaultPlan {
  const path = `spec.faults[${i}]`;
  const base = { name: f.name, atMs: ms(f.at), durationMs: ms(f.duration) };
  const module = FAULT_KIND_MODULES[f.kind];
  if (platform.kind === 'external' && module.needsPlatform) {
    const free = faultKindModules().filter((m) => !m.needsPlatform).map((m) => m.kind);
    problem(`${path}.kind`, `a fault that does not need a platform (${free.join(', ')}): spec.target deploys nothing to act on`, `"${f.kind}"`);
  }
  return (module.plan as FaultKindModule['plan'])(f, base, path, platform, problem, where);
}

/** What the platform must provide for these faults: Task API fault endpoints, a database proxy. */
export function platformNeeds(faults: readonly FaultPlan[]): { faultInjection: string[]; databaseProxy: boolean } {
  const needs = faults.map((f) => faultKind(f).platformNeeds?.(f) ?? {});
  return {
    faultInjection: [...new Set(needs.flatMap((n) => n.faultInjection ?? []))],
    databaseProxy: needs.some((n) => n.databaseProxy === true),
  };
}
