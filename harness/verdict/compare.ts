import type { Comparator } from '../scenario/plan.js';

/** `actual op threshold`, e.g. compare(2300, '<', 30000) === true. Exact for `==`: meant for counts. */
export function compare(actual: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case '<':
      return actual < threshold;
    case '<=':
      return actual <= threshold;
    case '==':
      return actual === threshold;
    case '>=':
      return actual >= threshold;
    case '>':
      return actual > threshold;
  }
}
