import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { eventsOf, isEvent, Journal, type JournalEvent } from '../../harness/core/journal.js';
import { createInjector, type FaultInjector } from '../../harness/faults/index.js';
import { FAULT_KIND_MODULES, faultKindModules } from '../../harness/faults/kinds/index.js';
import { PodKill } from '../../harness/faults/pod-kill.js';
import type { KillResult, Platform } from '../../harness/platform/types.js';
import { planFromText } from '../../harness/scenario/index.js';
import type { FaultPlan } from '../../harness/scenario/plan.js';
import { scenarioSchema } from '../../harness/scenario/schema.js';
import { FAULT_START_TYPES, measureFaultRtos, takesReplicasOut } from '../../harness/verdict/rto.js';
import { TimelineRecorder } from '../../harness/timeline/recorder.js';
import { planWith } from '../verdict/plan-fixture.js';

const leak: FaultPlan = { kind: 'pool-exhaustion', name: 'leak', atMs: 20_000, durationMs: 5_000, mode: 'leak', replicas: { mode: 'one' } };
const hold: FaultPlan = { kind: 'pool-exhaustion', name: 'hold', atMs: 20_000, durationMs: 5_000, mode: 'hold', replicas: { mode: 'one' } };
const kill: FaultPlan = { kind: 'pod-kill', name: 'kill', atMs: 20_000, durationMs: 5_000, mode: 'one' };
const delay: FaultPlan = { kind: 'network-delay', name: 'slow', atMs: 20_000, durationMs: 5_000, selector: 'database', direction: 'to', delay: { latencyMs: 100, jitterMs: 0, correlation: 0 } };

function scenario(faults: string): string {
  return `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kinds }
spec:
  duration: 60s
  load: { model: open, rate: 10 }
  faults:
${faults}`;
}

describe('fault kind registry', () => {
  it('has one module per kind the scenario schema accepts, under its own name', () => {
    const faults = scenarioSchema.shape.spec.shape.faults as unknown as { unwrap(): { element: { options: Array<{ shape: { kind: { value: string } } }> } } };
    const schemaKinds = faults.unwrap().element.options.map((o) => o.shape.kind.value);
    expect(Object.keys(FAULT_KIND_MODULES).sort()).toEqual([...schemaKinds].sort());
    for (const [key, module] of Object.entries(FAULT_KIND_MODULES)) expect(module.kind).toBe(key);
  });

  it('derives what the verdict reads from the modules: effect events, replicas taken out', () => {
    for (const m of faultKindModules()) for (const type of m.effectEvents) expect(FAULT_START_TYPES).toContain(type);
    expect(FAULT_START_TYPES).toContain('fault.applied');
    expect([kill, leak, hold, delay].map(takesReplicasOut)).toEqual([true, true, false, false]);
    // A leak's pool.leaked takes its replica out: the platform RTO runs to the replacement's readiness.
    const plan = planWith([], [leak]);
    const rec = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: 500, maxLatencyMs: 10_000 });
    const events: JournalEvent[] = [
      { atMs: 20_100, wallMs: 0, source: 'fault', type: 'pool.leaked', target: 'r1', fault: 'leak' },
      { atMs: 21_000, wallMs: 0, source: 'platform', type: 'replica.phase', target: 'r9', detail: { phase: 'Ready', replaces: 'r1' } },
    ];
    expect(measureFaultRtos(plan, rec.snapshot(), events)[0]?.platform).toMatchObject({ rtoMs: 900, recovered: true });
  });

  it('plans each kind through its module: platform needs, app checks, the platform-free kinds with spec.target', () => {
    const local = planFromText(
      scenario(`    - { name: slow, kind: network-delay, at: 10s, duration: 5s, delay: { latency: 50ms } }
    - { name: leak, kind: pool-exhaustion, mode: leak, at: 25s, duration: 5s }`),
      { env: {} },
    );
    if (!local.plan) throw new Error(JSON.stringify(local.problems));
    expect(local.plan.platform).toMatchObject({ kind: 'local', databaseProxy: true, faultInjection: ['leak'] });
    const external = planFromText(`${scenario('    - { name: kill, kind: pod-kill, at: 10s }')}\n  target: { url: 'http://127.0.0.1:9' }`, { env: {} });
    expect((external.problems ?? []).map((p) => [p.path, p.expected])).toContainEqual([
      'spec.faults[0].kind',
      'a fault that does not need a platform (exec, http): spec.target deploys nothing to act on',
    ]);
  });

  it("prefers the platform's own injector for a kind (Chaos Mesh objects), else the kind's", () => {
    const own: FaultInjector = { plan: kill, apply: async () => [], recover: async () => undefined };
    const platform: Platform = {
      kind: 'cluster',
      deploy: () => Promise.reject(new Error('not used')),
      teardown: async () => undefined,
      injectorFor: (plan) => (plan.kind === 'pod-kill' ? own : undefined),
    };
    expect(createInjector(kill, platform)).toBe(own);
    expect(createInjector(delay, platform).plan).toBe(delay);
    expect(createInjector(kill)).toBeInstanceOf(PodKill);
  });
});

describe('default injectors through platform capabilities', () => {
  it('pod-kill kills the ready replicas through ReplicaControl and journals what the platform says about each kill', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const calls: Array<[string, unknown]> = [];
    const platform: Platform = {
      kind: 'cluster',
      deploy: () => Promise.reject(new Error('not used')),
      teardown: async () => undefined,
      replicaControl: {
        kill: async (name, mode): Promise<KillResult> => {
          calls.push([name, mode]);
          return name === 'b' ? { killed: false, detail: { reason: 'already deleted' } } : { killed: true, detail: { uid: `uid-${name}` } };
        },
      },
    };
    const deployment = {
      serviceUrl: 'http://127.0.0.1:1',
      replicas: () => [
        { name: 'a', ready: true, startedAtMs: 0 },
        { name: 'b', ready: true, startedAtMs: 0 },
        { name: 'c', ready: false, startedAtMs: 0, phase: 'ContainerCreating' as const },
      ],
    };
    const all: FaultPlan = { ...kill, mode: 'all' };
    const records = await createInjector(all, platform).apply({ platform, deployment, journal, clock, random: () => 0 });
    expect(calls.map(([n, m]) => [n, m]).sort()).toEqual([['a', { how: 'kill' }], ['b', { how: 'kill' }]]);
    expect(records.map((r) => [r.target, r.detail?.['killed']]).sort()).toEqual([['a', true], ['b', false]]);
    const journalled = journal.events().map((e) => [e.type, e.target, e.fault, e.detail]);
    expect(journalled).toContainEqual(['replica.killed', 'a', 'kill', { uid: 'uid-a' }]);
    expect(journalled).toContainEqual(['replica.kill-missed', 'b', 'kill', { reason: 'already deleted' }]);
  });

  it('network-delay refuses a target the platform cannot delay, naming it', async () => {
    const clock = new SystemClock();
    const platform: Platform = {
      kind: 'cluster',
      deploy: () => Promise.reject(new Error('not used')),
      teardown: async () => undefined,
      networkControl: { supports: (t) => t.kind === 'labels', delay: async () => undefined, clearDelay: async () => undefined },
    };
    const ctx = { platform, deployment: { serviceUrl: 'http://127.0.0.1:1', replicas: () => [] }, journal: new Journal(clock), clock, random: () => 0 };
    await expect(createInjector(delay, platform).apply(ctx)).rejects.toThrow('fault slow: platform "cluster" cannot delay traffic of database');
  });
});

describe('typed journal events', () => {
  it('records typed payloads and narrows them when read back', () => {
    const journal = new Journal(new SystemClock());
    journal.record({ source: 'platform', type: 'replica.phase', target: 'api-b', atMs: 1_234, detail: { phase: 'ContainerCreating', replaces: 'api-a', reason: 'ImagePullBackOff' } });
    journal.record({ source: 'platform', type: 'replica.ready', target: 'api-b', detail: { replaces: 'api-a' } });
    journal.record({ source: 'harness', type: 'anything.else', detail: { free: 1 } });
    // @ts-expect-error replica.ready must say which replica it replaces (null when none)
    journal.record({ source: 'platform', type: 'replica.ready', target: 'x', detail: {} });
    // @ts-expect-error a phase is one of ReplicaPhase
    journal.record({ source: 'platform', type: 'replica.phase', target: 'x', detail: { phase: 'Bogus' } });
    // @ts-expect-error replica.killed is a fault's act: it names the fault
    journal.record({ source: 'fault', type: 'replica.killed', target: 'x' });
    const phase = eventsOf(journal.events(), 'replica.phase').find((e) => e.target === 'api-b');
    expect(phase?.atMs).toBe(1_234);
    const p: 'Pending' | 'ContainerCreating' | 'Running' | 'Ready' | 'Terminating' | 'Terminated' | undefined = phase?.detail.phase;
    expect(p).toBe('ContainerCreating');
    expect(eventsOf(journal.events(), 'replica.ready').map((e) => e.detail.replaces)).toEqual(['api-a', undefined]);
    expect(isEvent(phase!, 'replica.ready')).toBe(false);
  });
});
