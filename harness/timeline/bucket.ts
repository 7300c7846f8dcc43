import type { Histogram } from 'hdr-histogram-js';
import { SLOT_CLAMPED, SLOT_DROPPED, SLOT_SLOW, SLOT_SUM_US, newCounterSlots } from './counters.js';
import { createLatencyHistogram } from './histogram.js';
import type { HistogramKind } from './histogram.js';

/** The mutable accumulator behind one window or one phase: counter slots and a µs histogram. */
export interface Bucket {
  slots: Float64Array;
  histogram: Histogram;
  /** The histogram was handed out by a snapshot: copy it before recording into it again. */
  shared: boolean;
}

export function newBucket(maxLatencyMs: number, kind: HistogramKind): Bucket {
  return { slots: newCounterSlots(), histogram: createLatencyHistogram(maxLatencyMs, kind), shared: false };
}

/** Records a completed response; `us` is already within the histogram's range. */
export function addResponse(b: Bucket, statusSlot: number, us: number, slow: number, clamped: number): void {
  b.histogram.recordValue(us);
  b.slots[statusSlot] = (b.slots[statusSlot] ?? 0) + 1;
  b.slots[SLOT_SUM_US] = (b.slots[SLOT_SUM_US] ?? 0) + us;
  if (slow) b.slots[SLOT_SLOW] = (b.slots[SLOT_SLOW] ?? 0) + 1;
  if (clamped) b.slots[SLOT_CLAMPED] = (b.slots[SLOT_CLAMPED] ?? 0) + 1;
}

/** Counts a transport error or a drop: counted, never timed. */
export function addCount(b: Bucket, slot: number): void {
  b.slots[slot] = (b.slots[slot] ?? 0) + 1;
}

export function addDrop(b: Bucket): void {
  addCount(b, SLOT_DROPPED);
}
