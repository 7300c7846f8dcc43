import { OPERATION_NAMES, type MixEntry, type OperationName } from './types.js';
import { seededRandom } from '../core/random.js';

/** The reference mix: mostly reads of existing rows, some writes. */
export const DEFAULT_MIX: readonly MixEntry[] = Object.freeze([
  { op: 'get', weight: 80 },
  { op: 'create', weight: 10 },
  { op: 'update', weight: 5 },
  { op: 'list', weight: 5 },
]);

/** Every problem with a mix at once, as `path: expected, found`. Empty when valid. */
export function mixProblems(mix: readonly MixEntry[], path = 'mix'): string[] {
  const problems: string[] = [];
  if (mix.length === 0) problems.push(`${path}: expected at least one entry, found none`);
  mix.forEach((entry, i) => {
    if (!OPERATION_NAMES.includes(entry.op)) {
      problems.push(`${path}[${i}].op: expected one of ${OPERATION_NAMES.join('|')}, found ${JSON.stringify(entry.op)}`);
    }
    if (!Number.isFinite(entry.weight) || entry.weight < 0) {
      problems.push(`${path}[${i}].weight: expected a finite number >= 0, found ${String(entry.weight)}`);
    }
  });
  const total = mix.reduce((sum, e) => sum + (Number.isFinite(e.weight) && e.weight > 0 ? e.weight : 0), 0);
  if (mix.length > 0 && total <= 0) problems.push(`${path}: expected a positive total weight, found ${total}`);
  return problems;
}

/**
 * Draws op indices (into the mix) with probability proportional to weight. The sequence depends
 * only on the seed and the mix, never on timing: the same seed gives the same ops in the same order.
 */
export class Mix {
  readonly ops: readonly OperationName[];
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly random: () => number;

  constructor(entries: readonly MixEntry[], seed: number) {
    const problems = mixProblems(entries);
    if (problems.length > 0) throw new Error(`invalid request mix:\n  ${problems.join('\n  ')}`);
    this.ops = entries.map((e) => e.op);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach((e, i) => {
      sum += e.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
    this.random = seededRandom(seed);
  }

  /** The next op index. */
  next(): number {
    const r = this.random() * this.total;
    const last = this.cumulative.length - 1;
    for (let i = 0; i < last; i++) {
      if (r < (this.cumulative[i] as number)) return i;
    }
    return last;
  }

  /** True when the mix can draw `op` at all. */
  has(op: OperationName): boolean {
    return this.ops.some((o, i) => o === op && this.weightAt(i) > 0);
  }

  private weightAt(i: number): number {
    return (this.cumulative[i] as number) - (i === 0 ? 0 : (this.cumulative[i - 1] as number));
  }
}
