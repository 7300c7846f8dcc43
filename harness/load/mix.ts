import { seededRandom } from '../core/random.js';

/** A weighted choice among named requests. */
export interface WeightedEntry {
  name: string;
  weight: number;
}

/** Every problem with a set of weights at once, as `path: expected, found`. Empty when valid. */
export function mixProblems(mix: readonly WeightedEntry[], path = 'requests'): string[] {
  const problems: string[] = [];
  if (mix.length === 0) problems.push(`${path}: expected at least one request, found none`);
  mix.forEach((entry, i) => {
    if (!Number.isFinite(entry.weight) || entry.weight < 0) {
      problems.push(`${path}[${i}].weight: expected a finite number >= 0, found ${String(entry.weight)}`);
    }
  });
  const total = mix.reduce((sum, e) => sum + (Number.isFinite(e.weight) && e.weight > 0 ? e.weight : 0), 0);
  if (mix.length > 0 && total <= 0) problems.push(`${path}: expected a positive total weight, found ${total}`);
  return problems;
}

/**
 * Draws entry indices with probability proportional to weight. The sequence depends only on the
 * seed and the weights, never on timing: the same seed gives the same requests in the same order.
 */
export class Mix {
  readonly names: readonly string[];
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly random: () => number;

  constructor(entries: readonly WeightedEntry[], seed: number) {
    const problems = mixProblems(entries);
    if (problems.length > 0) throw new Error(`invalid request weights:\n  ${problems.join('\n  ')}`);
    this.names = entries.map((e) => e.name);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach((e, i) => {
      sum += e.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
    this.random = seededRandom(seed);
  }

  /** The next entry index. */
  next(): number {
    const r = this.random() * this.total;
    const last = this.cumulative.length - 1;
    for (let i = 0; i < last; i++) {
      if (r < (this.cumulative[i] as number)) return i;
    }
    return last;
  }
}
