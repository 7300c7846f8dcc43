import { describe, expect, it } from 'vitest';
import { AbortGuard } from '../../harness/run/abort-guard.js';

describe('abort guard', () => {
  it('trips only after the failure ratio stayed above the threshold for the whole period', () => {
    const guard = new AbortGuard({ failureRatio: 0.5, forMs: 3000 });
    expect(guard.observe(0, 100, 0)).toBe(false);
    expect(guard.observe(1, 100, 60)).toBe(false);
    expect(guard.observe(2, 100, 70)).toBe(false);
    expect(guard.observe(3, 100, 10)).toBe(false); // the run is broken: start again
    expect(guard.observe(4, 100, 51)).toBe(false);
    expect(guard.observe(5, 0, 0)).toBe(false); // no answer at all counts as failing
    expect(guard.observe(6, 100, 100)).toBe(true);
  });

  it('does not count a ratio exactly at the threshold, repeated seconds, or seconds across a gap as one run', () => {
    const guard = new AbortGuard({ failureRatio: 0.5, forMs: 2000 });
    expect(guard.observe(0, 100, 50)).toBe(false);
    expect(guard.observe(1, 100, 90)).toBe(false);
    expect(guard.observe(1, 100, 90)).toBe(false);
    expect(guard.observe(3, 100, 90)).toBe(false);
    expect(guard.observe(4, 100, 90)).toBe(true);
  });
});
