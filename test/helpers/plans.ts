import type { LocalPlatformPlan } from '../../harness/scenario/plan.js';

/** A local platform for tests and the bench: 3 replicas, fast probes, embedded PostgreSQL. */
export function localPlatformPlan(overrides: Partial<LocalPlatformPlan> = {}): LocalPlatformPlan {
  return {
    kind: 'local',
    replicas: 3,
    database: { kind: 'embedded' },
    readinessProbe: { initialDelayMs: 0, periodMs: 100, timeoutMs: 1000, failureThreshold: 1, successThreshold: 1 },
    pool: { size: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 5000 },
    seedRows: 10_000,
    terminationGracePeriodMs: 5000,
    faultInjection: [],
    databaseProxy: false,
    ...overrides,
  };
}
