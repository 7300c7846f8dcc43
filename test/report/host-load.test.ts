import { describe, expect, it } from 'vitest';
import { disturbance, guardHostLoad, type SideLoad } from '../../harness/report/gate/host-load.js';
import type { MetricComparison } from '../../harness/report/gate/types.js';
import { HostLoadMeter } from '../../harness/run/host-load.js';

describe('host load (other work on the machine during a run)', () => {
  it.skipIf(process.platform !== 'linux')('counts this process tree\'s CPU as its own, as the kernel accounts it', () => {
    const meter = new HostLoadMeter();
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    meter.sample(0);
    while (performance.now() - start < 1200) Math.sqrt(Math.random());
    meter.sample(performance.now() - start);
    const cpu = process.cpuUsage(cpu0);
    const load = meter.result();
    const expected = (cpu.user + cpu.system) / 1e6 / ((performance.now() - start) / 1000);
    expect(load?.ownCores).toBeGreaterThan(0.05);
    expect(Math.abs((load?.ownCores ?? 0) - expected)).toBeLessThan(0.1);
    expect(load?.foreignCores).toBeGreaterThanOrEqual(0);
    expect(load?.cpus).toBeGreaterThan(0);
  });

  it('turns a latency regression "inconclusive" only when other work disturbed the machine', () => {
    const m = (metric: MetricComparison['metric'], status: MetricComparison['status']): MetricComparison => ({ metric, label: metric, unit: 'ms', baseline: 1, current: 2, ratio: 2, tolerance: { relative: 0.2, absolute: 0 }, allowance: 0.2, status, reason: 'r' });
    const metrics = [m('latency.p95', 'regressed'), m('rto.platform', 'regressed'), m('latency.p99', 'ok')];
    const load = (foreignCores: number, ownCores = 0.7): SideLoad => ({ foreignCores, ownCores, cpus: 2 });
    // Quiet machines, unknown load, or the same moderate load on both sides: the verdict stands.
    expect(guardHostLoad(metrics, load(0.1), load(0.2))).toEqual(metrics);
    expect(guardHostLoad(metrics, undefined, load(1.5))).toEqual(metrics);
    expect(guardHostLoad(metrics, load(0.5), load(0.6))).toEqual(metrics);
    // Different other load, or a saturated machine: latency and client RTO are inconclusive.
    const differed = guardHostLoad(metrics, load(0.1), load(0.9));
    expect(differed.map((x) => x.status)).toEqual(['inconclusive', 'regressed', 'ok']);
    expect(differed[0]?.reason).toContain("the machine's other load differed (0.10 vs 0.90 of 2 cores busy outside the run)");
    expect(guardHostLoad(metrics, load(1.2), load(1.3))[0]?.reason).toContain('the machine was saturated by other work');
    expect(disturbance(load(0.2, 1.9), load(0.2, 1.9))).toBeUndefined();
  });
});
