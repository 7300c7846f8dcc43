import { parseDurationMs } from '../core/duration.js';
import type { FaultPlan, SelectorMode } from './plan.js';

/** What fault planning needs to know of the platform. */
export type PlatformShape = { kind: 'external' } | { kind: 'local'; replicas: number };
import type { FaultDocument } from './schema.js';

type Report = (path: string, expected: string, found: string) => void;
const ms = (text: string): number => parseDurationMs(text) as number;

/** One fault document → its plan, reporting what does not fit the platform. */
export function faultPlan(f: FaultDocument, i: number, platform: PlatformShape, problem: Report): FaultPlan {
  const path = `spec.faults[${i}]`;
  const base = { name: f.name, atMs: ms(f.at), durationMs: ms(f.duration) };
  if (platform.kind === 'external') {
    problem(`${path}.kind`, 'a fault that does not need a platform (spec.target deploys nothing to act on)', `"${f.kind}"`);
  }
  switch (f.kind) {
    case 'pod-kill': {
      const value = selection(f.mode, f.value, `${path}`, platform, problem);
      return { kind: 'pod-kill', ...base, mode: f.mode, ...(value !== undefined ? { value } : {}) };
    }
    case 'network-delay': {
      const latencyMs = ms(f.delay.latency);
      const jitterMs = ms(f.delay.jitter);
      if (jitterMs > latencyMs) problem(`${path}.delay.jitter`, `at most the latency (${f.delay.latency})`, f.delay.jitter);
      return { kind: 'network-delay', ...base, selector: f.selector, direction: f.direction, delay: { latencyMs, jitterMs, correlation: Number(f.delay.correlation) } };
    }
    case 'pool-exhaustion': {
      const mode = f.replicas?.mode ?? 'one';
      if (f.replicas && f.mode !== 'leak') problem(`${path}.replicas`, 'replicas only for mode "leak"', `mode "${f.mode}"`);
      const value = selection(mode, f.replicas?.value, `${path}.replicas`, platform, problem);
      return {
        kind: 'pool-exhaustion',
        ...base,
        mode: f.mode,
        ...(f.connections !== undefined ? { connections: f.connections } : {}),
        replicas: { mode, ...(value !== undefined ? { value } : {}) },
      };
    }
  }
}

/** Chaos Mesh selector rules: `value` for fixed / fixed-percent only, within range. */
function selection(mode: SelectorMode, raw: string | number | undefined, path: string, platform: PlatformShape, problem: Report): number | undefined {
  const value = raw === undefined ? undefined : Number(raw);
  if ((mode === 'fixed' || mode === 'fixed-percent') && value === undefined) problem(`${path}.value`, `a value for mode "${mode}"`, 'nothing');
  if ((mode === 'one' || mode === 'all') && value !== undefined) problem(`${path}.value`, `no value for mode "${mode}"`, String(raw));
  if (mode === 'fixed' && value !== undefined && platform.kind === 'local' && (value < 1 || value > platform.replicas)) {
    problem(`${path}.value`, `a count between 1 and the ${platform.replicas} replicas`, String(raw));
  }
  if (mode === 'fixed-percent' && value !== undefined && (value < 1 || value > 100)) problem(`${path}.value`, 'a percentage between 1 and 100', String(raw));
  return value;
}

/** What the platform must provide for these faults: Task API fault endpoints, a database proxy. */
export function platformNeeds(faults: readonly FaultPlan[]): { faultInjection: string[]; databaseProxy: boolean } {
  return {
    faultInjection: faults.some((f) => f.kind === 'pool-exhaustion' && f.mode === 'leak') ? ['leak'] : [],
    databaseProxy: faults.some((f) => f.kind === 'network-delay'),
  };
}
