import { sample } from '../core/random.js';
import type { SelectorMode } from '../scenario/plan.js';

/** How many of `n` candidates a Chaos Mesh selector mode picks (fixed-percent rounds down). */
export function selectionCount(mode: SelectorMode, n: number, value?: number): number {
  switch (mode) {
    case 'one':
      return Math.min(1, n);
    case 'all':
      return n;
    case 'fixed':
      return Math.min(value ?? 1, n);
    case 'fixed-percent':
      return Math.floor((n * (value ?? 0)) / 100);
  }
}

export function selectTargets<T>(candidates: readonly T[], mode: SelectorMode, random: () => number, value?: number): T[] {
  return sample(candidates, selectionCount(mode, candidates.length, value), random);
}
