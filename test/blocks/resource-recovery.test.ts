import { describe, expect, it } from 'vitest';
import type { ResourceSeries } from '../../harness/observe/series.js';
import { aggregateBySum, analyzeResourceRecovery, type ResourceRecoveryOptions } from '../../harness/timeline/resource-recovery.js';

/** Resource recovery on synthetic series sampled once a second: baseline [0, 10 s), fault [10 s, 20 s). */

const WINDOW: ResourceRecoveryOptions = { baselineStartMs: 0, faultAtMs: 10_000, faultEndMs: 20_000, sustainMs: 3000 };

/** One point a second over [fromS, toS), valued by `value(second)`. */
function series(resource: string, replica: string, fromS: number, toS: number, value: (s: number) => number): ResourceSeries {
  return { resource, replica, points: Array.from({ length: toS - fromS }, (_, i) => [(fromS + i) * 1000, value(fromS + i)]) };
}

const total = (rs: ReturnType<typeof analyzeResourceRecovery>, resource = 'db_connections') =>
  rs.find((r) => r.resource === resource && r.replica === 'total');

describe('resource recovery', () => {
  it('finds the recovery at a known time after the fault ends', () => {
    const s = series('db_connections', 'total', 0, 40, (t) => (t >= 10 && t < 25 ? 60 : 30));
    expect(total(analyzeResourceRecovery([s], WINDOW))).toEqual({
      resource: 'db_connections',
      replica: 'total',
      baseline: 30,
      toleranceAbs: 3,
      peak: 60,
      recoveredAtMs: 25_000,
      recoveryMs: 5000,
      leaked: false,
      status: 'recovered',
    });
  });

  it('flags a resource that never comes back as leaked', () => {
    const s = series('db_connections', 'total', 0, 40, (t) => (t >= 12 ? 40 : 30));
    expect(total(analyzeResourceRecovery([s], WINDOW))).toMatchObject({ leaked: true, status: 'leaked', recoveredAtMs: null, recoveryMs: null, peak: 40 });
  });

  it('treats noise within tolerance as recovered the moment the fault ends', () => {
    const noise = [0, 1.5, -2, 2.5, -1, 0.5, -2.5, 2, 1, -1.5];
    const s = series('db_connections', 'total', 0, 40, (t) => 30 + (noise[t % noise.length] as number));
    expect(total(analyzeResourceRecovery([s], WINDOW))).toMatchObject({ baseline: 30.25, status: 'recovered', recoveryMs: 0 });
  });

  it('needs the sustain period: a short return then a relapse does not count', () => {
    const s = series('db_connections', 'total', 0, 40, (t) => (t < 10 || (t >= 22 && t < 24) || t >= 27 ? 30 : 55));
    expect(total(analyzeResourceRecovery([s], WINDOW))).toMatchObject({ recoveredAtMs: 27_000, recoveryMs: 7000 });
  });

  it('accepts a return that lasts to the end of the run, shorter than the sustain period', () => {
    const s = series('db_connections', 'total', 0, 40, (t) => (t >= 10 && t < 38 ? 55 : 30));
    expect(total(analyzeResourceRecovery([s], WINDOW))).toMatchObject({ recoveredAtMs: 38_000, status: 'recovered' });
  });

  it('judges the sum when a leaking replica is replaced mid-run; the replaced one is gone, not leaked', () => {
    // a and b hold 5 sessions throughout; c leaks 5 more at 12 s, is killed at 22 s; d replaces it at 24 s.
    const pool = (replica: string, from: number, to: number, v: (t: number) => number) => series('db_pool_active', replica, from, to, v);
    const data = [
      pool('a', 0, 40, () => 5),
      pool('b', 0, 40, () => 5),
      pool('c', 0, 22, (t) => (t >= 12 ? 10 : 5)),
      pool('d', 24, 40, () => 5),
    ];
    const results = analyzeResourceRecovery(data, { ...WINDOW, tolerances: { db_pool_active: { abs: 2, rel: 0 } } });
    // The sum falls to 10 when c dies (22 s): holding less than before is back, not a leak.
    expect(total(results, 'db_pool_active')).toMatchObject({ baseline: 15, peak: 20, recoveredAtMs: 22_000, recoveryMs: 2000, leaked: false });
    const byReplica = Object.fromEntries(results.filter((r) => r.replica !== 'total').map((r) => [r.replica, r.status]));
    expect(byReplica).toEqual({ a: 'recovered', b: 'recovered', c: 'gone' });
  });

  it('does not call a resource that ends below its baseline leaked (idle pool connections closed after start-up)', () => {
    // 22 sessions while warm-up connections are still open, then the pools' idle timeout closes them.
    const data = [series('db_connections', 'total', 0, 40, (t) => (t < 11 ? 22 : t < 20 ? 30 : 5))];
    const [r] = analyzeResourceRecovery(data, { ...WINDOW, tolerances: { db_connections: { abs: 2, rel: 0.1 } } });
    expect(r).toMatchObject({ baseline: 22, peak: 30, leaked: false, status: 'recovered', recoveredAtMs: 20_000 });
  });

  it('still flags a leak when the leaking replica is never replaced', () => {
    const data = [series('db_pool_active', 'a', 0, 40, () => 1), series('db_pool_active', 'c', 0, 40, (t) => (t >= 12 ? 10 : 1))];
    const results = analyzeResourceRecovery(data, WINDOW);
    expect(total(results, 'db_pool_active')).toMatchObject({ leaked: true });
    expect(results.find((r) => r.replica === 'c')).toMatchObject({ leaked: true, status: 'leaked' });
    expect(results.find((r) => r.replica === 'a')).toMatchObject({ status: 'recovered', recoveryMs: 0 });
  });

  it('prefers a total series over the sum, and sums per timestamp otherwise', () => {
    const a = series('db_connections', 'a', 0, 3, () => 2);
    const b = series('db_connections', 'b', 1, 4, () => 3);
    expect(aggregateBySum([a, b])).toEqual([[0, 2], [1000, 5], [2000, 5], [3000, 3]]);
    expect(aggregateBySum([a, b, series('db_connections', 'total', 0, 2, () => 9)])).toEqual([[0, 9], [1000, 9]]);
  });

  it('says when there is no baseline or no data after the fault, and honours options', () => {
    const late = series('open_fds', 'total', 12, 40, () => 30);
    const early = series('rss_bytes', 'total', 0, 15, () => 1e8);
    const results = analyzeResourceRecovery([late, early], WINDOW);
    expect(results.map((r) => [r.resource, r.status])).toEqual([['open_fds', 'no-baseline'], ['rss_bytes', 'no-data']]);
    const only = analyzeResourceRecovery([late, early, series('db_connections', 'x', 0, 40, () => 1)], { ...WINDOW, resources: ['db_connections'], perReplica: false });
    expect(only.map((r) => r.replica)).toEqual(['total']);
  });

  it('uses tolerance max(abs, rel × baseline) per resource, overridable', () => {
    const s = series('rss_bytes', 'total', 0, 40, (t) => (t >= 10 ? 130e6 : 100e6));
    expect(total(analyzeResourceRecovery([s], WINDOW), 'rss_bytes')).toMatchObject({ toleranceAbs: 33_554_432, status: 'recovered' });
    const strict = analyzeResourceRecovery([s], { ...WINDOW, tolerances: { rss_bytes: { abs: 0, rel: 0.1 } } });
    expect(total(strict, 'rss_bytes')).toMatchObject({ toleranceAbs: 10e6, status: 'leaked' });
  });

  it('with untilMs, judges only up to the next fault: a later return does not count', () => {
    const s = series('db_connections', 'total', 0, 60, (t) => (t >= 10 && t < 45 ? 60 : 30));
    expect(total(analyzeResourceRecovery([s], { ...WINDOW, untilMs: 40_000 }))).toMatchObject({ leaked: true, status: 'leaked' });
    expect(total(analyzeResourceRecovery([s], { ...WINDOW, untilMs: 50_000 }))).toMatchObject({ recoveredAtMs: 45_000, status: 'recovered' });
    const replicas = [series('open_fds', 'a', 0, 60, (t) => (t >= 10 && t < 45 ? 90 : 30))];
    expect(analyzeResourceRecovery(replicas, { ...WINDOW, untilMs: 40_000 }).map((r) => [r.replica, r.status])).toEqual([['total', 'leaked'], ['a', 'leaked']]);
  });
});
