import { TRANSPORT_ERROR_KINDS } from '../load/types.js';
import type { TransportErrorKind } from '../load/types.js';
import { STATUS_CLASSES } from './types.js';
import type { OutcomeCounts, StatusClass, TransportErrorCounts } from './types.js';

/**
 * The recorder's counters live in one Float64Array per window and per phase, indexed by these
 * slots, so the hot path only increments numbers. `toOutcomeCounts` turns them into plain data.
 */
export const SLOT_STATUS = 0; // 5 slots: 1xx..5xx
export const SLOT_TRANSPORT = 5; // one slot per kind, in TRANSPORT_ERROR_KINDS order
const TRANSPORT_SLOTS = TRANSPORT_ERROR_KINDS.length;
export const SLOT_SLOW = SLOT_TRANSPORT + TRANSPORT_SLOTS;
export const SLOT_DROPPED = SLOT_SLOW + 1;
export const SLOT_CLAMPED = SLOT_SLOW + 2;
/** Sum of the recorded latencies in µs (after clamping), for an exact mean. */
export const SLOT_SUM_US = SLOT_SLOW + 3;
/** Responses whose status the request does not expect (never a 5xx: those are failures, counted apart). */
export const SLOT_UNEXPECTED = SLOT_SLOW + 4;
export const SLOT_COUNT = SLOT_SLOW + 5;

/** Slots live in memory only (result.json holds the counts by name), so their order is free to change. */
const TRANSPORT_INDEX: Readonly<Record<TransportErrorKind, number>> = Object.fromEntries(TRANSPORT_ERROR_KINDS.map((k, i) => [k, SLOT_TRANSPORT + i])) as Record<TransportErrorKind, number>;

/** True for the slot of any transport error kind. */
export function isTransportSlot(slot: number): boolean {
  return slot >= SLOT_TRANSPORT && slot < SLOT_TRANSPORT + TRANSPORT_SLOTS;
}

export function newCounterSlots(): Float64Array {
  return new Float64Array(SLOT_COUNT);
}

/**
 * Status class slot 0..4. Statuses outside 100–599 cannot come from a conforming server; they
 * are put in the nearest class (below 200 → 1xx, 600 and above → 5xx, i.e. counted as failures).
 */
export function statusSlot(status: number): number {
  const cls = Math.floor(status / 100);
  if (cls >= 5) return SLOT_STATUS + 4;
  if (cls <= 1) return SLOT_STATUS;
  return SLOT_STATUS + cls - 1;
}

export function transportSlot(kind: TransportErrorKind): number {
  return TRANSPORT_INDEX[kind] ?? SLOT_TRANSPORT + TRANSPORT_ERROR_KINDS.indexOf('other');
}

function at(slots: Float64Array, i: number): number {
  return slots[i] ?? 0;
}

export function toOutcomeCounts(slots: Float64Array): OutcomeCounts {
  const status = {} as Record<StatusClass, number>;
  STATUS_CLASSES.forEach((cls, i) => (status[cls] = at(slots, SLOT_STATUS + i)));
  const transportErrors = { total: 0 } as TransportErrorCounts;
  TRANSPORT_ERROR_KINDS.forEach((kind) => {
    const n = at(slots, transportSlot(kind));
    transportErrors[kind] = n;
    transportErrors.total += n;
  });
  const responses = STATUS_CLASSES.reduce((sum, cls) => sum + status[cls], 0);
  const dropped = at(slots, SLOT_DROPPED);
  const count = responses + transportErrors.total;
  return {
    count,
    arrivals: count + dropped,
    responses,
    status,
    status5xx: status['5xx'],
    transportErrors,
    failures: status['5xx'] + transportErrors.total + dropped,
    slow: at(slots, SLOT_SLOW),
    dropped,
    clamped: at(slots, SLOT_CLAMPED),
    unexpected: at(slots, SLOT_UNEXPECTED),
  };
}

/** Sums plain counts (e.g. the phases a check runs over). */
export function sumOutcomeCounts(parts: readonly OutcomeCounts[]): OutcomeCounts {
  const slots = newCounterSlots();
  for (const p of parts) {
    STATUS_CLASSES.forEach((cls, i) => (slots[SLOT_STATUS + i] = at(slots, SLOT_STATUS + i) + p.status[cls]));
    for (const kind of TRANSPORT_ERROR_KINDS) slots[transportSlot(kind)] = at(slots, transportSlot(kind)) + (p.transportErrors[kind] ?? 0); // absent in results written before the kind existed
    slots[SLOT_SLOW] = at(slots, SLOT_SLOW) + p.slow;
    slots[SLOT_DROPPED] = at(slots, SLOT_DROPPED) + p.dropped;
    slots[SLOT_CLAMPED] = at(slots, SLOT_CLAMPED) + p.clamped;
    slots[SLOT_UNEXPECTED] = at(slots, SLOT_UNEXPECTED) + p.unexpected;
  }
  return toOutcomeCounts(slots);
}
