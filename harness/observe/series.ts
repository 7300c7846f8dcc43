/**
 * Resource series: plain data, one per (resource, replica), sampled on the run clock. A replica
 * replaced during the run starts a new series under its new name; `total` series are the whole.
 */
export { RESOURCE_NAMES, type ResourceName } from '../scenario/plan.js';

/** The replica label of a series that covers every replica (and, for db_connections, every session). */
export const TOTAL = 'total';

export interface ResourceSeries {
  resource: string;
  /** A replica name, or `total`. */
  replica: string;
  /** [run-clock ms, value], in time order. */
  points: Array<[tMs: number, value: number]>;
}

/** Collects points into series, in the order they are first seen. */
export class SeriesBook {
  private readonly byKey = new Map<string, ResourceSeries>();

  add(resource: string, replica: string, tMs: number, value: number): void {
    const key = `${resource}\u0000${replica}`;
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = { resource, replica, points: [] };
      this.byKey.set(key, series);
    }
    series.points.push([tMs, value]);
  }

  /** A copy: the caller may keep it while sampling goes on. */
  series(): ResourceSeries[] {
    return [...this.byKey.values()].map((s) => ({ ...s, points: s.points.map(([t, v]) => [t, v] as [number, number]) }));
  }
}
