import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock, type Clock } from '../../harness/core/clock.js';
import { eventsOf, Journal } from '../../harness/core/journal.js';
import { seededRandom } from '../../harness/core/random.js';
import { createInjector, type FaultContext } from '../../harness/faults/index.js';
import type { DisasterRecoveryFaultPlan } from '../../harness/faults/kinds/disaster-recovery.js';
import type { AcknowledgedWrite } from '../../harness/load/types.js';
import { verifyWrites } from '../../harness/observe/durability.js';
import { assessRpo } from '../../harness/observe/rpo.js';
import { LocalPlatform, type LocalDeployment } from '../../harness/platform/local/index.js';
import type { CheckPlan, Plan } from '../../harness/scenario/plan.js';
import { drillMetric } from '../../harness/verdict/dr-metrics.js';
import { isAlive } from '../helpers/leftovers.js';
import { localPlatformPlan } from '../helpers/plans.js';

/**
 * The drill on the local platform: real embedded PostgreSQL, real Task API replicas. The test
 * makes its own writes before the backup, between the backup and the disaster, and after the
 * restore, so the RPO figures are known by construction. The disaster waits on a gate the test
 * opens (the clock's sleep), so no write can race it.
 */
describe('disaster-recovery drill on the local platform', () => {
  const real = new SystemClock();
  const journal = new Journal(real);
  let platform: LocalPlatform;
  let deployment: LocalDeployment;
  let open: () => void = () => undefined;
  let gated = false;
  /** The run clock, except that a drill's first wait (for the disaster) lasts until the test opens the gate (or the signal aborts). */
  const clock: Clock = {
    now: () => real.now(),
    wallMs: (t) => real.wallMs(t),
    sleep: (ms, signal) => {
      if (!gated) return real.sleep(ms, signal);
      gated = false;
      return new Promise<void>((resolve) => {
        open = resolve;
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
  let ctx: FaultContext;
  const writes: AcknowledgedWrite[] = [];

  beforeAll(async () => {
    platform = new LocalPlatform(localPlatformPlan({ replicas: 2, seedRows: 20, pool: { size: 4, acquireTimeoutMs: 500, statementTimeoutMs: 2000 } }), { journal }, real);
    deployment = await platform.deploy(new AbortController().signal);
    ctx = { platform, deployment, journal, clock, random: seededRandom(3) };
  });
  afterAll(async () => {
    await platform?.teardown();
  });

  /** One write through the Service, recorded as the load records an acknowledged one. */
  async function write(op: AcknowledgedWrite['op'], id?: number): Promise<AcknowledgedWrite> {
    const path = op === 'create' ? '/tasks' : `/tasks/${id}`;
    const method = op === 'create' ? 'POST' : op === 'update' ? 'PATCH' : 'DELETE';
    const body = op === 'delete' ? undefined : JSON.stringify({ title: `dr ${op} ${writes.length}` });
    const res = await fetch(`${deployment.serviceUrl}${path}`, { method, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}), signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    expect(res.status, text).toBeLessThan(300);
    const fields = op === 'delete' ? undefined : (JSON.parse(text) as Record<string, unknown>);
    const w: AcknowledgedWrite = { op, id: fields ? Number(fields['id']) : (id as number), atMs: real.now(), ...(fields ? { fields } : {}) };
    writes.push(w);
    return w;
  }
  const healthy = async (): Promise<boolean> => (await fetch(`${deployment.serviceUrl}/tasks/1`).catch(() => undefined))?.status === 200;
  const drill = (name: string, durationMs = 40_000): DisasterRecoveryFaultPlan => (gated = true) && ({ kind: 'disaster-recovery', name, atMs: real.now(), durationMs, disasterAtMs: real.now() + 1, healthPath: '/health' });
  const nextEvent = (type: string, fault: string): Promise<void> =>
    new Promise((resolve) => {
      const stop = journal.subscribe((e) => {
        if (e.type === type && e.fault === fault) {
          stop();
          resolve();
        }
      });
    });

  it('backup, disaster, restore: writes after the backup are the measured loss, all others survive; RTO from the journal', async () => {
    const before = [await write('create'), await write('create'), await write('create'), await write('create')];
    await write('update', 5); // a seeded row
    const plan = drill('drill');
    const fault = createInjector(plan, platform);
    const backedUp = nextEvent('dr.backup-completed', 'drill');
    const oldPid = platform['database']?.pid as number;
    const applying = fault.apply(ctx);
    await backedUp;
    // Acknowledged after the backup, before the disaster: the loss the RPO allows (6 writes).
    const middle = [await write('create'), await write('create'), await write('create'), await write('create')];
    middle.push(await write('update', before[0]!.id), await write('delete', before[1]!.id));
    open();
    const records = await applying;
    await fault.recover(records, ctx);
    expect(isAlive(oldPid)).toBe(false);
    expect(platform['database']?.pid).not.toBe(oldPid);
    expect(await healthy()).toBe(true);
    // After the restore the identity restarts from the backup: these take the lost creates' ids again.
    const after = [await write('create'), await write('create'), await write('create')];
    expect(after.map((w) => w.id)).toEqual(middle.slice(0, 3).map((w) => w.id));

    const events = journal.events().filter((e) => e.fault === 'drill');
    expect(events.map((e) => e.type)).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.disaster', 'dr.restore-started', 'dr.restore-completed', 'dr.service-healthy']);
    const [backupAt, , disasterAt, , , healthyAt] = events.map((e) => e.atMs) as number[];
    expect(eventsOf(events, 'dr.backup-completed')[0]?.detail.rows).toBe(20 + before.length);

    const report = await verifyWrites(deployment.databaseUrl as string, writes);
    // 4 creates (3 replaced by a new task of the same id, 1 missing), the update undone, the delete undone.
    expect(report.lostTotal).toBe(6);
    expect(report.lost.map((l) => l.reason.split(':')[0]).sort()).toEqual(['missing', 'mismatch', 'replaced', 'replaced', 'replaced', 'still present after an acknowledged delete'].sort());
    const rpo = assessRpo(journal.events(), report);
    expect(rpo.drills[0]?.lostInWindow.map((l) => l.atMs).sort((a, b) => a - b)).toEqual(middle.map((w) => w.atMs));
    expect(rpo.drills[0]?.lostOutside).toEqual([]);
    expect(rpo.drills[0]?.spanMs).toBe(Math.round((middle.at(-1) as AcknowledgedWrite).atMs - (backupAt as number)));

    const plans = { faults: [plan] } as unknown as Plan;
    const facts = { events: journal.events(), durability: report, timeline: undefined, rtos: [] } as never;
    const check = (metric: CheckPlan['metric']): ReturnType<typeof drillMetric> => drillMetric({ metric, fault: 'drill' } as CheckPlan, plans, facts);
    expect(check('rto.restore').actual).toBe(Math.round((healthyAt as number) - (disasterAt as number)));
    expect(check('rpo.lostWrites').actual).toBe(6);
    expect(check('durability.lostOutsideRpo').actual).toBe(0);
    expect(check('rpo.span').detail).toMatch(/^drill: 6 acknowledged writes lost, acknowledged .* after the backup; backup → disaster/);

    // A write acknowledged before the backup and lost is no allowed loss: the check catches it.
    const pre = { ...before[2]!, atMs: (backupAt as number) - 1 };
    const broken = assessRpo(journal.events(), { lostTotal: 7, lost: [...report.lost, { op: pre.op, id: pre.id, atMs: pre.atMs, reason: 'missing' }] });
    expect(broken.drills[0]?.lostOutside).toHaveLength(1);
  });

  it('stopped after the backup, before the disaster (Ctrl-C): the original is never touched, and the drill says so', async () => {
    const plan = drill('stopped-early');
    const fault = createInjector(plan, platform);
    const pid = platform['database']?.pid as number;
    const stop = new AbortController();
    const backedUp = nextEvent('dr.backup-completed', 'stopped-early');
    const applying = fault.apply(ctx, stop.signal);
    await backedUp;
    const acked = await write('create');
    stop.abort();
    await fault.recover(await applying, ctx);
    const types = journal.events().filter((e) => e.fault === 'stopped-early').map((e) => e.type);
    expect(types).toEqual(['dr.backup-started', 'dr.backup-completed', 'dr.interrupted']);
    expect(eventsOf(journal.events(), 'dr.interrupted').find((e) => e.fault === 'stopped-early')?.detail).toMatchObject({ outcome: 'untouched' });
    expect(platform['database']?.pid).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    expect((await verifyWrites(deployment.databaseUrl as string, [acked])).lostTotal).toBe(0);
  });
});
