/**
 * Chaos Mesh NetworkChaos `delay`, in the harness's units: `latency`, `jitter` and `correlation`
 * as the CRD spells them (durations in ms, correlation a percentage), plus the NetworkChaos
 * `direction`. 'to' delays traffic towards the upstream, 'from' the traffic coming back.
 */
export type DelayDirection = 'to' | 'from' | 'both';
export const DELAY_DIRECTIONS: readonly DelayDirection[] = ['to', 'from', 'both'];

export interface NetworkDelay {
  latencyMs: number;
  jitterMs: number;
  /** 0–100: how much each delay sample depends on the previous one (netem's correlation). */
  correlation: number;
  direction: DelayDirection;
}

/** Every problem with `spec`, as "field: expected ..., found ..." lines; empty when valid. */
export function networkDelayProblems(spec: NetworkDelay): string[] {
  const problems: string[] = [];
  const check = (field: string, ok: boolean, expected: string, found: unknown): void => {
    if (!ok) problems.push(`${field}: expected ${expected}, found ${String(found)}`);
  };
  const { latencyMs, jitterMs, correlation, direction } = spec;
  check('latencyMs', Number.isFinite(latencyMs) && latencyMs >= 0, 'a finite number of ms >= 0', latencyMs);
  check('jitterMs', Number.isFinite(jitterMs) && jitterMs >= 0, 'a finite number of ms >= 0', jitterMs);
  check('correlation', Number.isFinite(correlation) && correlation >= 0 && correlation <= 100, 'a percentage from 0 to 100', correlation);
  check('direction', DELAY_DIRECTIONS.includes(direction), `one of ${DELAY_DIRECTIONS.join(', ')}`, direction);
  return problems;
}

export function delaysDirection(spec: NetworkDelay, direction: 'to' | 'from'): boolean {
  return spec.direction === 'both' || spec.direction === direction;
}

/**
 * Delay samples as netem draws them with no distribution table (Chaos Mesh hands the CRD's
 * fields to netem unchanged): a correlated uniform u = (1 − ρ)·fresh + ρ·previous, with
 * ρ = correlation / 100, then delay = latency − jitter + 2·jitter·u, floored at 0. ρ = 1 keeps
 * the first sample for ever (constant delay); ρ = 0 draws independent samples. Like netem, an
 * intermediate ρ also narrows the spread; that is what the CRD means, so it is kept.
 */
export class DelaySampler {
  private last: number;
  private readonly rho: number;

  constructor(
    private readonly spec: NetworkDelay,
    private readonly random: () => number = Math.random,
  ) {
    this.rho = spec.correlation / 100;
    this.last = random();
  }

  next(): number {
    const { latencyMs, jitterMs } = this.spec;
    if (jitterMs === 0) return latencyMs;
    const u = this.rho === 0 ? this.random() : (1 - this.rho) * this.random() + this.rho * this.last;
    this.last = u;
    return Math.max(0, latencyMs - jitterMs + 2 * jitterMs * u);
  }
}
