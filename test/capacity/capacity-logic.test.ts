import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capacityCommand } from '../../harness/cli/capacity-command.js';
import { validateCommand } from '../../harness/cli/validate-command.js';
import { parse } from 'yaml';
import { InputError } from '../../harness/core/errors.js';
import type { CapacityDocument, CapacitySearch } from '../../harness/capacity/document.js';
import { forecast } from '../../harness/capacity/forecast.js';
import { capacityMarkdown } from '../../harness/capacity/summary.js';
import { judgeStep, type JudgedStep } from '../../harness/capacity/judge.js';
import { capacityPlanFrom } from '../../harness/capacity/plan.js';
import { searchKnee } from '../../harness/capacity/search.js';
import type { StepMeasure } from '../../harness/capacity/step.js';
import { compareCapacity } from '../../harness/report/gate/capacity.js';
import { planFromText } from '../../harness/scenario/index.js';
import { scenarioSchema } from '../../harness/scenario/schema.js';

const SLO = { latencyP95Ms: 150, failureRatio: 0.001, achievedRatio: 0.99 };

/** A step as a service of capacity `truth` (req/s) with a 50 ms answer would give. */
function measureOf(truth: number, rate: number, over: Partial<StepMeasure> = {}): StepMeasure {
  const achieved = Math.min(rate, truth);
  return {
    rate,
    judgedMs: 2000,
    arrivals: rate * 2,
    achievedRate: achieved,
    failures: 0,
    dropped: 0,
    status5xx: 0,
    transportErrors: 0,
    failureRatio: 0,
    p50Ms: 50,
    p95Ms: rate <= truth ? 55 : 400,
    p99Ms: rate <= truth ? 60 : 500,
    meanMs: rate <= truth ? 50 : 300,
    generator: { sendLagP99Ms: 1, loopDelayMaxMs: 2, cpuCores: 0.2, maxInFlight: 1000, connections: 16 },
    ...over,
  };
}

const config = { startRate: 100, stepRate: 50, maxRate: 1000, refine: 2, budgetMs: 1e9, stepCostMs: 1 };

describe('the knee search', () => {
  it('finds the knee of a known capacity within the refined step, confirming the first failure', async () => {
    const rates: number[] = [];
    const { knee, steps } = await searchKnee(async (r) => {
      rates.push(r);
      return judgeStep(measureOf(290, r), SLO);
    }, config, () => 0);
    // 100..250 ok, 300 fails twice (confirmed), then 275 ok, 287.5 ok.
    expect(rates).toEqual([100, 150, 200, 250, 300, 300, 275, 287.5]);
    expect(knee).toMatchObject({ status: 'found', rate: 287.5, upper: 300, uncertainty: 12.5 });
    expect(steps).toHaveLength(8);
  });

  it('does not take one noisy failing step for the knee', async () => {
    let calls = 0;
    const { knee } = await searchKnee(async (r) => {
      calls++;
      // The first measurement at 150/s hits a stall; its confirmation passes.
      return judgeStep(calls === 2 ? measureOf(290, r, { p95Ms: 900 }) : measureOf(290, r), SLO);
    }, { ...config, refine: 0 }, () => 0);
    expect(knee.rate).toBe(250);
    expect(knee.upper).toBe(300);
  });

  it('reports a lower bound when the load generator is the limit, never a knee', async () => {
    const { knee } = await searchKnee(async (r) => judgeStep(measureOf(10_000, r, r >= 200 ? { achievedRate: r * 0.8, generator: { sendLagP99Ms: 180, loopDelayMaxMs: 200, cpuCores: 0.97, maxInFlight: 1000, connections: 16 } } : {}), SLO), config, () => 0);
    expect(knee.status).toBe('generator-limited');
    expect(knee.rate).toBe(150);
    expect(knee.upper).toBeNull();
    expect(knee.text).toMatch(/^at least 150\/s, limited by the load generator at 200\/s \(send lag p99 180 ms.*CPU saturated/);
  });

  it('never calls a first step the generator could not deliver a knee', async () => {
    const stalled = { sendLagP99Ms: 300, loopDelayMaxMs: 300, cpuCores: 0.5, maxInFlight: 1000, connections: 16 };
    const { knee } = await searchKnee(async (r) => judgeStep(measureOf(10_000, r, { p95Ms: 400, generator: stalled }), SLO), config, () => 0);
    expect(knee).toMatchObject({ status: 'generator-limited', rate: null, upper: null });
    expect(knee.text).toMatch(/^not measured: the first step was already limited by the load generator at 100\/s \(send lag p99 300 ms/);
  });

  it('stops at maxRate and at its time budget with lower bounds', async () => {
    const above = await searchKnee(async (r) => judgeStep(measureOf(10_000, r), SLO), { ...config, maxRate: 300 }, () => 0);
    expect(above.knee).toMatchObject({ status: 'above-max', rate: 300 });
    let t = 0;
    const timed = await searchKnee(async (r) => {
      t += 1000;
      return judgeStep(measureOf(10_000, r), SLO);
    }, { ...config, budgetMs: 3500, stepCostMs: 1000 }, () => t);
    expect(timed.knee).toMatchObject({ status: 'time-bound', rate: 200 });
    expect(timed.steps).toHaveLength(3);
  });

  it('says so when the first step already fails', async () => {
    const { knee } = await searchKnee(async (r) => judgeStep(measureOf(50, r), SLO), config, () => 0);
    expect(knee).toMatchObject({ status: 'below-start', rate: null, upper: 100 });
  });
});

describe('judging a step', () => {
  it('fails on p95, failures and achieved rate, each named', () => {
    const j = judgeStep(measureOf(100, 120, { failures: 5, failureRatio: 5 / 240, status5xx: 5 }), SLO);
    expect(j.verdict).toBe('fail');
    expect(j.reasons.join('\n')).toMatch(/p95 400 ms > 150 ms[\s\S]*failures 2.08% > 0.10% \(5 5xx[\s\S]*achieved 100\/s < 99% of 120\/s/);
  });

  it('blames drops at maxInFlight on the generator only while the service answers unqueued', () => {
    const capped = measureOf(1000, 120, { dropped: 40, failures: 40, failureRatio: 40 / 240, achievedRate: 80, meanMs: 51, p95Ms: 56 });
    capped.generator.maxInFlight = 4;
    expect(judgeStep(capped, SLO, 50).verdict).toBe('generator-limited');
    expect(judgeStep(capped, SLO, 50).generatorLimits[0]).toMatch(/40 arrivals dropped at the generator's maxInFlight \(4\)/);
    // The same drops behind a queue (mean 6× the unloaded answer) are the service's.
    expect(judgeStep({ ...capped, meanMs: 300 }, SLO, 50).verdict).toBe('fail');
  });
});

describe('the forecast', () => {
  it('shows the arithmetic: replicas for the peak plus the ones lost, from the smaller per-replica capacity', () => {
    const f = forecast({ peak: 250, knee: { replicas: 3, rate: 300 }, kneeMinusOne: { replicas: 2, rate: 190 }, loss: 1 });
    expect(f.perReplicaRate).toBe(95);
    expect(f.replicasForPeak).toBe(3);
    expect(f.replicas).toBe(4);
    expect(f.netRateWhileRecovering).toBe(285);
    expect(f.arithmetic.join('\n')).toContain('ceil(250 / 95) = 3');
  });
  it('prints rates as kept (0.01/s), so a knee just under the peak never reads as the peak', () => {
    const f = forecast({ peak: 200, knee: { replicas: 2, rate: 199.99 }, loss: 1 });
    expect(f.arithmetic[0]).toBe('per-replica capacity c = 199.99/2 = 100 req/s');
    const d = doc({ N: { rate: 199.99 } });
    const n = d.searches[0] as CapacitySearch;
    n.headroom = { peak: 200, rate: -0.01, ratio: 1 };
    expect(capacityMarkdown(d)).toContain('| -0.01/s over 200/s (1×) |');
  });
});

function doc(knees: Record<string, { rate: number; status?: CapacitySearch['knee']['status']; uncertainty?: number }>): CapacityDocument {
  return {
    kind: 'gameday.capacity',
    schemaVersion: 1,
    scenario: { name: 's' },
    status: 'completed',
    startedAt: '',
    durationMs: 0,
    machine: { cpus: 2, model: 'x', loadAverage: [0], node: 'v20', note: '' },
    slo: SLO,
    tolerance: 0.1,
    load: { connections: 1, maxInFlight: 'per step', timeoutMs: 1000, stepMs: 2000, settleMs: 500 },
    searches: Object.entries(knees).map(([name, k]) => ({ name, replicas: 2, knee: { status: k.status ?? 'found', rate: k.rate, upper: k.rate + (k.uncertainty ?? 10), uncertainty: k.uncertainty ?? 10, text: '' }, steps: [] as JudgedStep[] })),
  };
}

describe('the capacity regression gate', () => {
  const files = { baseline: 'b', current: 'c' };
  it('regresses a knee that drops more than the tolerance plus the step', () => {
    const c = compareCapacity(doc({ N: { rate: 300 }, 'N-1': { rate: 200 } }), doc({ N: { rate: 255 }, 'N-1': { rate: 195 } }), files);
    expect(c.metrics.map((m) => [m.search, m.status, m.floor])).toEqual([['N', 'regressed', 260], ['N-1', 'ok', 170]]);
    expect(c.regressed).toBe(true);
  });
  it('never regresses on a lower bound', () => {
    const c = compareCapacity(doc({ N: { rate: 300 } }), doc({ N: { rate: 100, status: 'generator-limited' } }), files);
    expect(c.metrics[0]?.status).toBe('inconclusive');
    expect(c.regressed).toBe(false);
  });
});

describe('spec.capacity validation', () => {
  const base = (capacity: string, replicas = 2): string => `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: cap }
spec:
  duration: 10s
  platform: { local: { replicas: ${replicas}, app: { command: [node, x.mjs] } } }
  workload: { requests: [{ name: work, path: /work }] }
  load: { model: open, rate: 10 }
  capacity: ${capacity}
`;
  const problems = (text: string): string[] => {
    const r = planFromText(text, { env: {} });
    if (r.problems) return r.problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
    try {
      capacityPlanFrom(scenarioSchema.parse(parse(text)), r.plan);
      return [];
    } catch (err) {
      return (err as InputError).problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
    }
  };
  it('gameday validate reports them too, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-capacity-validate-'));
    try {
      const file = join(dir, 'cap.yaml');
      writeFileSync(file, base('{ startRate: 500, stepRate: 10, maxRate: 400 }'));
      const errors: string[] = [];
      const code = await validateCommand([file], { info: () => undefined, error: (l) => errors.push(l) });
      expect(code).toBe(2);
      expect(errors[0]).toBe(`${file}: spec.capacity.startRate: expected a rate at most maxRate (400), found 500`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gameday capacity refuses a scenario without spec.capacity before starting anything (InputError: exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-capacity-none-'));
    try {
      const out = join(dir, 'out');
      const err = await capacityCommand('scenarios/kv-api.yaml', { out }, { info: () => undefined, error: () => undefined }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toBe('scenarios/kv-api.yaml: spec.capacity: expected a capacity block (startRate, stepRate, maxRate, …) for gameday capacity, found nothing');
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a complete block and fills the defaults', () => {
    expect(problems(base('{ startRate: 50, stepRate: 25, maxRate: 400, peak: 300/s }'))).toEqual([]);
  });
  it('names every bad field with what it expected', () => {
    expect(problems(base('{ startRate: 500, stepRate: 1, maxRate: 400, settle: 5s, stepDuration: 5s, massTermination: { mode: fixed-percent } }', 1))).toEqual([
      'spec.capacity.startRate: expected a rate at most maxRate (400), found 500',
      'spec.capacity.settle: expected at least 1s less than stepDuration (5s), so each step has a second to judge, found 5s',
      'spec.capacity.variants.nMinusOne: expected a local platform with at least 2 replicas (or nMinusOne: false), found 1 replica',
      'spec.capacity.massTermination.percent: expected a share of replicas to kill (0–100) with mode fixed-percent, found nothing',
    ]);
    expect(problems(base('{ startRate: 1, stepRate: 1, maxRate: 400, peak: fast }'))).toEqual(['spec.capacity.peak: expected a rate such as "300/s", found "fast"']);
    expect(problems(base('{ startRate: 1, stepRate: 1, maxRate: 400, variants: { faults: [nope] } }'))).toEqual([
      'spec.capacity.stepRate: expected a step giving at most 200 steps from startRate to maxRate (at least 3), found 1 (400 steps)',
      'spec.capacity.variants.faults[0]: expected the name of a spec.faults entry (none defined), found nope',
    ]);
  });
});
