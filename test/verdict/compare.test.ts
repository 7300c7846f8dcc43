import { describe, expect, it } from 'vitest';
import type { Comparator } from '../../harness/scenario/plan.js';
import { compare } from '../../harness/verdict/compare.js';

describe('compare', () => {
  const cases: Array<[number, Comparator, number, boolean]> = [
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [3, '<=', 2, false],
    [0, '==', 0, true],
    [1, '==', 0, false],
    [2, '>=', 2, true],
    [1, '>=', 2, false],
    [3, '>', 2, true],
    [2, '>', 2, false],
  ];
  it.each(cases)('%d %s %d is %s', (actual, op, threshold, expected) => {
    expect(compare(actual, op, threshold)).toBe(expected);
  });
});
