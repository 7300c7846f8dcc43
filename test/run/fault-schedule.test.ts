import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { createInjector, type FaultContext, type FaultInjector, type FaultRecord } from '../../harness/faults/index.js';
import { FaultSchedule } from '../../harness/run/fault-schedule.js';
import type { Deployment, Platform, ReplicaStatus } from '../../harness/platform/types.js';
import type { FaultPlan, PodKillFaultPlan } from '../../harness/scenario/plan.js';

/** The run clock on vitest's fake timers: `now()` and `sleep()` move only when the test advances time. */
class FakeTimeClock implements Clock {
  private readonly origin = Date.now();
  now(): number {
    return Date.now() - this.origin;
  }
  wallMs(offsetMs: number): number {
    return this.origin + offsetMs;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

const DELAY: FaultPlan = { kind: 'network-delay', name: 'slow-db', atMs: 1000, durationMs: 100, selector: 'database', direction: 'to', delay: { latencyMs: 300, jitterMs: 0, correlation: 0 } };
const KILL: PodKillFaultPlan = { kind: 'pod-kill', name: 'kill-one', atMs: 1000, durationMs: 100, mode: 'one' };

/** A platform whose network delay and kills are plain state: what the faults left behind is visible. */
function fakeWorld(clock: Clock) {
  const world = { delay: null as number | null, kills: [] as string[] };
  const replicas: ReplicaStatus[] = [{ name: 'task-api-0', ready: true, startedAtMs: 0 }];
  const platform: Platform = {
    kind: 'local',
    deploy: () => Promise.reject(new Error('not used')),
    teardown: () => Promise.resolve(),
    networkControl: {
      supports: (target) => target.kind === 'database',
      delay: async ({ delay }) => void (world.delay = delay.latencyMs),
      clearDelay: async () => void (world.delay = null),
    },
    replicaControl: { kill: async (name) => (world.kills.push(name), { killed: true, detail: {} }) },
  };
  const deployment: Deployment = { serviceUrl: 'http://127.0.0.1:1', replicas: () => replicas };
  const journal = new Journal(clock);
  const ctx: FaultContext = { platform, deployment, journal, clock, random: () => 0 };
  return { world, journal, ctx };
}

/** A fault whose apply and recover take `applyMs` / `recoverMs`; its effect is `on` between them. */
class SlowFault implements FaultInjector {
  on = false;
  signal: AbortSignal | undefined;
  applyCalls = 0;
  recovered: FaultRecord[][] = [];
  constructor(
    readonly plan: FaultPlan,
    private readonly clock: Clock,
    private readonly applyMs: number,
    private readonly recoverMs = 0,
  ) {}
  async apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    this.applyCalls++;
    this.signal = signal;
    await this.clock.sleep(this.applyMs);
    this.on = true;
    return [{ target: 'x', appliedAtMs: ctx.clock.now() }];
  }
  async recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    this.recovered.push(records);
    if (records.length === 0) return; // like the real injectors: only what apply reported is undone
    await this.clock.sleep(this.recoverMs);
    this.on = false;
    for (const r of records) r.recoveredAtMs ??= ctx.clock.now();
  }
}

const types = (journal: Journal, fault: string): string[] => journal.events().filter((e) => e.fault === fault && e.source === 'fault').map((e) => e.type);

describe('fault schedule: apply and recover never interleave', () => {
  let clock: FakeTimeClock;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    clock = new FakeTimeClock();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a short delay fault behind a slow forensic snapshot is recovered after it is applied, not left on', async () => {
    const { world, journal, ctx } = fakeWorld(clock);
    const snapshot = vi.fn(() => clock.sleep(500));
    const schedule = new FaultSchedule([createInjector(DELAY)], ctx, clock, journal, snapshot);
    schedule.start();
    await vi.advanceTimersByTimeAsync(1200); // the recovery time (1100) passes during the snapshot
    expect(snapshot).toHaveBeenCalledTimes(1);
    expect(world.delay).toBeNull();
    await vi.advanceTimersByTimeAsync(400); // snapshot done at 1500: applied, then recovered at once
    expect(world.delay).toBeNull();
    expect(types(journal, 'slow-db')).toEqual(['fault.started', 'network.delayed', 'fault.applied', 'network.restored', 'fault.recovered']);
    await schedule.recoverAll();
    expect(world.delay).toBeNull();
    expect(schedule.error()).toBeUndefined();
  });

  it('a pod-kill behind a slow snapshot still kills, and its records are marked recovered', async () => {
    const { world, journal, ctx } = fakeWorld(clock);
    const schedule = new FaultSchedule([createInjector(KILL)], ctx, clock, journal, () => clock.sleep(500));
    schedule.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(world.kills).toEqual(['task-api-0']);
    expect(types(journal, 'kill-one')).toEqual(['fault.started', 'replica.killed', 'fault.applied', 'fault.recovered']);
    expect(journal.events().find((e) => e.type === 'fault.recovered')!.detail).toEqual({ targets: 1 });
  });

  it('recovery due during a slow apply waits for it and undoes what it applied; the apply is told to stop', async () => {
    const { journal, ctx } = fakeWorld(clock);
    const fault = new SlowFault(DELAY, clock, 700);
    const schedule = new FaultSchedule([fault], ctx, clock, journal, () => clock.sleep(200));
    schedule.start();
    await vi.advanceTimersByTimeAsync(1150); // snapshot 1000-1200; recovery is due at 1100
    expect(fault.applyCalls).toBe(0);
    await vi.advanceTimersByTimeAsync(100); // apply runs 1200-1900
    expect(fault.applyCalls).toBe(1);
    expect(fault.signal?.aborted).toBe(true); // its time was already up: anything that waits stops waiting
    expect(fault.recovered).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(700);
    expect(fault.on).toBe(false);
    expect(fault.recovered).toHaveLength(1);
    expect(fault.recovered[0]).toHaveLength(1);
    expect(types(journal, 'slow-db')).toEqual(['fault.started', 'fault.applied', 'fault.recovered']);
  });

  it('recoverAll during an in-flight apply waits for it, then recovers what it applied', async () => {
    const { journal, ctx } = fakeWorld(clock);
    const fault = new SlowFault({ ...DELAY, durationMs: 10_000 }, clock, 700);
    const schedule = new FaultSchedule([fault], ctx, clock, journal);
    schedule.start();
    await vi.advanceTimersByTimeAsync(1100);
    expect(fault.applyCalls).toBe(1);
    let done = false;
    const all = schedule.recoverAll().then(() => (done = true));
    expect(fault.signal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toBe(false); // the apply is still running: nothing to recover yet
    await vi.advanceTimersByTimeAsync(200);
    await all;
    expect(fault.on).toBe(false);
    expect(fault.recovered).toEqual([[expect.objectContaining({ target: 'x' })]]);
    await vi.advanceTimersByTimeAsync(20_000); // the fault's own recovery timer is gone
    expect(fault.recovered).toHaveLength(1);
  });

  it('recoverAll during the snapshot: the fault is not applied at all, and nothing runs afterwards', async () => {
    const { world, journal, ctx } = fakeWorld(clock);
    const delay = createInjector(DELAY);
    const schedule = new FaultSchedule([delay], ctx, clock, journal, () => clock.sleep(500));
    schedule.start();
    await vi.advanceTimersByTimeAsync(1050);
    let done = false;
    const all = schedule.recoverAll().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(false); // waits for the snapshot that is under way
    await vi.advanceTimersByTimeAsync(400);
    await all;
    await vi.advanceTimersByTimeAsync(5000);
    expect(world.delay).toBeNull();
    expect(types(journal, 'slow-db')).toEqual(['fault.skipped']);
  });

  it('recoverAll before a fault is due: it never applies', async () => {
    const { world, journal, ctx } = fakeWorld(clock);
    const schedule = new FaultSchedule([createInjector(DELAY)], ctx, clock, journal);
    schedule.start();
    await vi.advanceTimersByTimeAsync(500);
    await schedule.recoverAll();
    await vi.advanceTimersByTimeAsync(5000);
    expect(world.delay).toBeNull();
    expect(types(journal, 'slow-db')).toEqual([]);
  });

  it('recoverAll while a recovery is under way returns only when it has finished', async () => {
    const { journal, ctx } = fakeWorld(clock);
    const fault = new SlowFault(DELAY, clock, 0, 800);
    const schedule = new FaultSchedule([fault], ctx, clock, journal);
    schedule.start();
    await vi.advanceTimersByTimeAsync(1200); // recovering 1100-1900
    expect(fault.on).toBe(true);
    let done = false;
    const all = schedule.recoverAll().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(600);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await all;
    expect(fault.on).toBe(false);
    expect(fault.recovered).toHaveLength(1);
  });

  it('the next fault waits for the previous one to be recovered: two delays never overlap', async () => {
    const { world, journal, ctx } = fakeWorld(clock);
    const first = createInjector({ ...DELAY, name: 'first', atMs: 1000, durationMs: 100 });
    const second = createInjector({ ...DELAY, name: 'second', atMs: 1100, durationMs: 1000, delay: { latencyMs: 50, jitterMs: 0, correlation: 0 } });
    // the first fault's snapshot is slow, the second's is not: unordered, the first would clear the second's delay
    const schedule = new FaultSchedule([first, second], ctx, clock, journal, (f) => clock.sleep(f === first ? 500 : 10));
    schedule.start();
    await vi.advanceTimersByTimeAsync(1600);
    expect(world.delay).toBe(50);
    const order = journal.events().filter((e) => e.type === 'network.delayed' || e.type === 'network.restored').map((e) => `${e.fault} ${e.type}`);
    expect(order).toEqual(['first network.delayed', 'first network.restored', 'second network.delayed']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(world.delay).toBeNull();
    await schedule.recoverAll();
  });

  it('an apply that fails is still recovered (it may have done part of its work) and reported', async () => {
    const { journal, ctx } = fakeWorld(clock);
    const recover = vi.fn(async () => undefined);
    const failing: FaultInjector = { plan: DELAY, apply: () => Promise.reject(new Error('boom')), recover };
    const schedule = new FaultSchedule([failing], ctx, clock, journal);
    schedule.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(recover).toHaveBeenCalledWith([], ctx);
    expect(schedule.error()?.message).toBe('boom');
    expect(types(journal, 'slow-db')).toEqual(['fault.started', 'fault.apply-failed', 'fault.recovered']);
  });
});
