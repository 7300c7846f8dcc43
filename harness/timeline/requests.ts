import type { Histogram } from 'hdr-histogram-js';
import { addDrop, addOutcome, newBucket } from './bucket.js';
import type { Bucket } from './bucket.js';
import { SLOT_STATUS, SLOT_SUM_US, isTransportSlot, newCounterSlots, toOutcomeCounts } from './counters.js';
import { copyHistogram, createLatencyHistogram, summarize } from './histogram.js';
import { REQUEST_SECOND_COLUMNS } from './types.js';
import type { RequestPhaseStats, RequestSecondColumns, RequestTimeline } from './types.js';

/** One request of the workload as the recorder knows it. */
export interface RequestSpec {
  name: string;
  /** Statuses this request expects; absent: any status below 400. */
  expectedStatuses?: readonly number[];
}

// Per open second: the counters kept beside its histogram, in this order.
const C_COUNT = 0;
const C_DROPPED = 1;
const C_5XX = 2;
const C_TRANSPORT = 3;
const C_UNEXPECTED = 4;
const C_FIELDS = 5;

/** Throws a RangeError naming the first bad request spec (the caller's bug, not the user's input). */
export function checkRequestSpecs(specs: readonly RequestSpec[]): void {
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (typeof s.name !== 'string' || s.name === '') throw new RangeError(`requests[${i}].name: expected a non-empty name, found ${JSON.stringify(s.name)}`);
    if (seen.has(s.name)) throw new RangeError(`requests[${i}].name: expected a name used once, found "${s.name}" again`);
    seen.add(s.name);
    for (const status of s.expectedStatuses ?? []) {
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`requests[${i}].expectedStatuses: expected HTTP statuses 100-599, found ${status}`);
    }
  });
}

/** Growable columns of sealed seconds; grows by doubling, so only new seconds allocate. */
class SealedSeconds {
  columns: RequestSecondColumns = emptyColumns(64);

  ensure(index: number): void {
    const capacity = this.columns.count.length;
    if (index < capacity) return;
    let next = capacity;
    while (next <= index) next *= 2;
    const grown = emptyColumns(next);
    for (const k of REQUEST_SECOND_COLUMNS) grown[k].set(this.columns[k]);
    this.columns = grown;
  }
}

function emptyColumns(n: number): RequestSecondColumns {
  return Object.fromEntries(REQUEST_SECOND_COLUMNS.map((k) => [k, new Uint32Array(n)])) as unknown as RequestSecondColumns;
}

/**
 * One request's timeline: a bucket per phase span (exact: histogram and counters), and per second
 * a histogram only while outcomes may still reach that second. Those live in a ring of `ringSize`
 * seconds; when a second needs a ring slot, the second held there (at least `ringSize` seconds
 * older, so beyond the maximum latency) is sealed into counters and p50/p95/p99, and its
 * histogram reset and reused. Memory: ringSize + phases histograms, plus 32 bytes a second.
 */
export class RequestTrack {
  readonly name: string;
  /** expected[status] === 1 for an expected status; null: any status below 400. */
  private readonly expected: Uint8Array | null;
  private readonly expectedList: number[] | null;
  private readonly phaseBuckets: Array<Bucket | undefined>;
  private readonly ringSecond: Int32Array;
  private readonly ringHist: Array<Histogram | undefined>;
  private readonly ringCounts: Float64Array;
  private readonly sealed = new SealedSeconds();
  private late = 0;

  constructor(
    spec: RequestSpec,
    phaseCount: number,
    private readonly ringSize: number,
    private readonly maxLatencyMs: number,
  ) {
    this.name = spec.name;
    this.expectedList = spec.expectedStatuses ? [...spec.expectedStatuses].sort((a, b) => a - b) : null;
    this.expected = this.expectedList ? new Uint8Array(600) : null;
    for (const s of this.expectedList ?? []) (this.expected as Uint8Array)[s] = 1;
    this.phaseBuckets = new Array<Bucket | undefined>(phaseCount).fill(undefined);
    this.ringSecond = new Int32Array(ringSize).fill(-1);
    this.ringHist = new Array<Histogram | undefined>(ringSize).fill(undefined);
    this.ringCounts = new Float64Array(ringSize * C_FIELDS);
  }

  /** Is `status` one this request expects? (5xx are judged apart by the caller.) */
  expects(status: number): boolean {
    return this.expected === null ? status < 400 : this.expected[status] === 1;
  }

  /** One timed outcome sent in `second`, phase span `phase`; arguments as in addOutcome. */
  outcome(second: number, phase: number, slot: number, us: number, slow: number, clamped: number, unexpected: number): void {
    addOutcome(this.phaseBucket(phase), slot, us, slow, clamped, 0, unexpected);
    const is5xx = slot === SLOT_STATUS + 4 ? 1 : 0;
    const transport = isTransportSlot(slot) ? 1 : 0;
    const i = this.ringEntry(second);
    if (i < 0) {
      this.addSealed(second, 1, 0, is5xx, transport, unexpected);
      return;
    }
    (this.ringHist[i] as Histogram).recordValue(us);
    const c = this.ringCounts;
    const o = i * C_FIELDS;
    c[o + C_COUNT] = (c[o + C_COUNT] ?? 0) + 1;
    if (is5xx) c[o + C_5XX] = (c[o + C_5XX] ?? 0) + 1;
    if (transport) c[o + C_TRANSPORT] = (c[o + C_TRANSPORT] ?? 0) + 1;
    if (unexpected) c[o + C_UNEXPECTED] = (c[o + C_UNEXPECTED] ?? 0) + 1;
  }

  /** A dropped arrival (never sent, no latency) meant for `second`. */
  drop(second: number, phase: number): void {
    addDrop(this.phaseBucket(phase));
    const i = this.ringEntry(second);
    if (i < 0) {
      this.addSealed(second, 0, 1, 0, 0, 0);
      return;
    }
    const o = i * C_FIELDS + C_DROPPED;
    this.ringCounts[o] = (this.ringCounts[o] ?? 0) + 1;
  }

  /** Plain data, `seconds` long (the timeline's length); recording may go on without changing it. */
  snapshot(seconds: number): RequestTimeline {
    const columns = emptyColumns(seconds);
    const src = this.sealed.columns;
    for (const k of REQUEST_SECOND_COLUMNS) columns[k].set(src[k].subarray(0, Math.min(seconds, src[k].length)));
    // Seconds still open: summarised from their histograms, left as they are.
    for (let i = 0; i < this.ringSize; i++) {
      const s = this.ringSecond[i] as number;
      if (s >= 0 && s < seconds) this.summariseInto(columns, s, i);
    }
    return {
      name: this.name,
      expectedStatuses: this.expectedList ? [...this.expectedList] : null,
      phases: this.phaseBuckets.map((b, index) => this.phaseStats(b, index)),
      seconds: columns,
      late: this.late,
    };
  }

  private phaseStats(bucket: Bucket | undefined, index: number): RequestPhaseStats {
    const histogram = bucket ? copyHistogram(bucket.histogram, this.maxLatencyMs, 'request') : createLatencyHistogram(this.maxLatencyMs, 'request');
    return { index, ...toOutcomeCounts(bucket?.slots ?? newCounterSlots()), ...summarize(histogram, bucket?.slots[SLOT_SUM_US]), histogram };
  }

  private phaseBucket(phase: number): Bucket {
    let b = this.phaseBuckets[phase];
    if (!b) {
      b = newBucket(this.maxLatencyMs, 'request');
      this.phaseBuckets[phase] = b;
    }
    return b;
  }

  /** The ring slot holding `second`, opening it (sealing what it held) if need be; -1 when `second` is sealed. */
  private ringEntry(second: number): number {
    const i = second % this.ringSize;
    const held = this.ringSecond[i] as number;
    if (held === second) return i;
    // The slot holds a second at least ringSize newer: this one is beyond the ring, sealed.
    if (held > second) return -1;
    if (held >= 0) this.seal(i);
    else this.ringHist[i] ??= createLatencyHistogram(this.maxLatencyMs, 'window');
    this.ringSecond[i] = second;
    return i;
  }

  private seal(i: number): void {
    const s = this.ringSecond[i] as number;
    this.sealed.ensure(s);
    this.summariseInto(this.sealed.columns, s, i);
    (this.ringHist[i] as Histogram).reset();
    this.ringCounts.fill(0, i * C_FIELDS, (i + 1) * C_FIELDS);
    this.ringSecond[i] = -1;
  }

  /** Adds ring slot i's counters to `columns` at second s and sets its percentiles. */
  private summariseInto(columns: RequestSecondColumns, s: number, i: number): void {
    const c = this.ringCounts;
    const o = i * C_FIELDS;
    columns.count[s] = (columns.count[s] ?? 0) + (c[o + C_COUNT] ?? 0);
    columns.dropped[s] = (columns.dropped[s] ?? 0) + (c[o + C_DROPPED] ?? 0);
    columns.status5xx[s] = (columns.status5xx[s] ?? 0) + (c[o + C_5XX] ?? 0);
    columns.transportErrors[s] = (columns.transportErrors[s] ?? 0) + (c[o + C_TRANSPORT] ?? 0);
    columns.unexpected[s] = (columns.unexpected[s] ?? 0) + (c[o + C_UNEXPECTED] ?? 0);
    const h = this.ringHist[i] as Histogram;
    if (h.totalCount > 0) {
      columns.p50Us[s] = h.getValueAtPercentile(50);
      columns.p95Us[s] = h.getValueAtPercentile(95);
      columns.p99Us[s] = h.getValueAtPercentile(99);
    }
  }

  /** An outcome for a second already sealed: its counters only (its percentiles are final). */
  private addSealed(s: number, count: number, dropped: number, is5xx: number, transport: number, unexpected: number): void {
    this.sealed.ensure(s);
    const c = this.sealed.columns;
    c.count[s] = (c.count[s] ?? 0) + count;
    c.dropped[s] = (c.dropped[s] ?? 0) + dropped;
    c.status5xx[s] = (c.status5xx[s] ?? 0) + is5xx;
    c.transportErrors[s] = (c.transportErrors[s] ?? 0) + transport;
    c.unexpected[s] = (c.unexpected[s] ?? 0) + unexpected;
    this.late += count;
  }
}
