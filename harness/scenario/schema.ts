import { z } from 'zod';
import { parseDurationMs } from '../core/duration.js';
import { OPERATION_NAMES } from '../load/types.js';
import { PHASE_NAMES } from './plan.js';

/**
 * The scenario file as written: Kubernetes-style (apiVersion, kind, metadata, spec), strict
 * (unknown keys are errors), durations as Go-style strings. Cross-field rules live in rules.ts.
 */

export const API_VERSION = 'gameday.dev/v1alpha1';

const duration = z
  .string()
  .refine((s) => parseDurationMs(s) !== undefined, { message: 'a duration such as "500ms", "30s" or "1m30s"' });

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

const probe = z.strictObject({
  initialDelay: duration.default('0s'),
  period: duration.default('500ms'),
  timeout: duration.default('1s'),
  failureThreshold: positiveInt.default(1),
  successThreshold: positiveInt.default(1),
});

const database = z.union([z.literal('embedded'), z.strictObject({ url: z.string().min(1) })]);

const localPlatform = z.strictObject({
  replicas: positiveInt.max(32).default(3),
  database: database.default('embedded'),
  readinessProbe: probe.default(probe.parse({})),
  pool: z
    .strictObject({
      size: positiveInt.max(1000).default(10),
      acquireTimeout: duration.default('2s'),
      statementTimeout: duration.default('5s'),
    })
    .default({ size: 10, acquireTimeout: '2s', statementTimeout: '5s' }),
  seedRows: nonNegativeInt.max(1_000_000).default(10_000),
  terminationGracePeriod: duration.default('10s'),
});

const mix = z
  .partialRecord(z.enum(OPERATION_NAMES as [string, ...string[]]), z.number().min(0))
  .refine((m) => Object.values(m).some((w) => (w ?? 0) > 0), { message: 'at least one operation with weight > 0' });

const load = z.strictObject({
  model: z.enum(['closed', 'open']).default('closed'),
  connections: positiveInt.max(10_000).default(16),
  rate: z.number().positive().max(1_000_000).optional(),
  maxInFlight: positiveInt.optional(),
  timeout: duration.default('5s'),
  mix: mix.default({ get: 80, create: 10, update: 5, list: 5 }),
  seed: nonNegativeInt.default(1),
});

const selectorMode = z.enum(['one', 'all', 'fixed', 'fixed-percent']);
const countValue = z.union([z.string().regex(/^\d+$/, 'a whole number'), nonNegativeInt]);

const podKill = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label (lowercase letters, digits, -)'),
  kind: z.literal('pod-kill'),
  at: duration,
  duration: duration.default('15s'),
  mode: selectorMode.default('one'),
  value: countValue.optional(),
});

/** A discriminated union on `kind`: a new fault kind adds a member here. */
const fault = z.discriminatedUnion('kind', [podKill]);

const metric = z.enum([
  'rto.platform',
  'rto.client',
  'requests.status5xx',
  'requests.transportErrors',
  'requests.failures',
  'requests.failureRatio',
  'latency.p50',
  'latency.p95',
  'latency.p99',
  'latency.max',
  'throughput.rps',
]);

const check = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  metric,
  during: z.array(z.enum(PHASE_NAMES as [string, ...string[]])).min(1).optional(),
  target: z.string().min(1),
});

/** A local platform with every default filled in (a scenario that names no platform gets this). */
export function defaultLocalPlatform(): z.infer<typeof localPlatform> {
  return localPlatform.parse({});
}

export const scenarioSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label (lowercase letters, digits, -)'),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    duration: duration,
    warmup: duration.default('3s'),
    platform: z.strictObject({ local: localPlatform }).optional(),
    target: z.strictObject({ url: z.url() }).optional(),
    load: load.default(load.parse({})),
    faults: z.array(fault).default([]),
    slo: z.strictObject({ latencyP95: duration.default('500ms') }).default({ latencyP95: '500ms' }),
    recovery: z
      .strictObject({ window: duration.default('10s'), sustain: duration.default('3s') })
      .default({ window: '10s', sustain: '3s' }),
    checks: z.array(check).optional(),
  }),
});

export type ScenarioDocument = z.infer<typeof scenarioSchema>;
export type FaultDocument = z.infer<typeof fault>;
export type CheckDocument = z.infer<typeof check>;
