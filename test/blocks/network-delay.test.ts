import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../harness/core/random.js';
import { DelaySampler, delaysDirection, networkDelayProblems, type NetworkDelay } from '../../harness/platform/local/network-delay.js';

const spec = (correlation: number, jitterMs = 50, latencyMs = 200): NetworkDelay => ({ latencyMs, jitterMs, correlation, direction: 'to' });

function draw(s: NetworkDelay, n: number, seed = 7): number[] {
  const sampler = new DelaySampler(s, seededRandom(seed));
  return Array.from({ length: n }, () => sampler.next());
}

/** Lag-1 autocorrelation of a series. */
function lag1(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i += 1) {
    const d = (xs[i] as number) - mean;
    den += d * d;
    if (i > 0) num += d * ((xs[i - 1] as number) - mean);
  }
  return den === 0 ? 1 : num / den;
}

describe('DelaySampler (netem delay with jitter and correlation)', () => {
  it('keeps every sample within latency ± jitter, centred on the latency', () => {
    for (const correlation of [0, 25, 50, 90, 100]) {
      const xs = draw(spec(correlation), 5000);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(150);
      expect(Math.max(...xs)).toBeLessThanOrEqual(250);
    }
    const independent = draw(spec(0), 20_000);
    expect(independent.reduce((a, b) => a + b, 0) / independent.length).toBeCloseTo(200, 0);
  });

  it('correlation 0 gives independent samples spread over the whole range', () => {
    const xs = draw(spec(0), 20_000);
    expect(Math.abs(lag1(xs))).toBeLessThan(0.03);
    expect(Math.min(...xs)).toBeLessThan(151);
    expect(Math.max(...xs)).toBeGreaterThan(249);
  });

  it('correlation 100 gives a constant delay; a high correlation gives a slowly moving one', () => {
    const constant = draw(spec(100), 1000);
    expect(new Set(constant).size).toBe(1);
    expect(lag1(draw(spec(90), 20_000))).toBeGreaterThan(0.8);
    expect(lag1(draw(spec(50), 20_000))).toBeGreaterThan(0.4);
  });

  it('without jitter the delay is exactly the latency, and never negative', () => {
    expect(draw(spec(0, 0), 10)).toEqual(Array(10).fill(200));
    expect(Math.min(...draw(spec(0, 100, 20), 2000))).toBe(0);
  });

  it('is repeatable for a seed', () => {
    expect(draw(spec(30), 50, 11)).toEqual(draw(spec(30), 50, 11));
  });
});

describe('network delay spec', () => {
  it('reports every problem at once', () => {
    const problems = networkDelayProblems({ latencyMs: Number.POSITIVE_INFINITY, jitterMs: -1, correlation: 150, direction: 'sideways' as 'to' });
    expect(problems).toHaveLength(4);
    expect(networkDelayProblems(spec(100))).toEqual([]);
  });

  it("'both' delays both directions, 'to' and 'from' one each", () => {
    const d = (direction: NetworkDelay['direction']): NetworkDelay => ({ ...spec(0), direction });
    expect([delaysDirection(d('to'), 'to'), delaysDirection(d('to'), 'from')]).toEqual([true, false]);
    expect([delaysDirection(d('from'), 'to'), delaysDirection(d('from'), 'from')]).toEqual([false, true]);
    expect([delaysDirection(d('both'), 'to'), delaysDirection(d('both'), 'from')]).toEqual([true, true]);
  });
});
