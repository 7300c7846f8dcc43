import type { JournalEvent } from '../../harness/core/journal.js';
import { buildResult, type ResultDocument } from '../../harness/report/result.js';
import { analyse } from '../../harness/run/analyse.js';
import { regressionPlan } from '../../harness/scenario/regression.js';
import { TimelineRecorder, type RequestSpec, type TimelineData } from '../../harness/timeline/index.js';
import { check, planWith, podKill } from '../verdict/plan-fixture.js';
import { feed, generate, healthy, outage, refused, type Outcome, type Service } from '../timeline/synthetic.js';

export interface SyntheticRun {
  /** Multiplies every latency: 1.3 is a +30 % regression. */
  latencyScale?: number;
  seed?: number;
  /** Refused connections for this long after the kill. */
  outageMs?: number;
  extra?: Record<string, unknown>;
}

const KILL_AT = 20_000;

function events(): JournalEvent[] {
  const e = (atMs: number, type: string, target?: string): JournalEvent => ({ atMs, wallMs: 1_800_000_000_000 + atMs, source: type.startsWith('fault') ? 'fault' : 'platform', type, ...(target ? { target } : {}), ...(type.startsWith('fault') ? { fault: 'kill' } : {}) });
  return [e(KILL_AT, 'fault.started'), e(KILL_AT, 'replica.killed', 'task-api-a'), e(KILL_AT + 5, 'fault.applied'), e(KILL_AT + 20, 'replica.started', 'task-api-d'), e(KILL_AT + 600, 'replica.ready', 'task-api-d')];
}

/** The fixture's workload: three named requests; `create` expects 201 and is answered 200. */
export const FIXTURE_REQUESTS: RequestSpec[] = [{ name: 'get' }, { name: 'create', expectedStatuses: [201] }, { name: 'list' }];

/** Which request an outcome was, deterministic in its send time: ≈ 70 % get, 20 % create, 10 % list. */
export function fixtureOp(o: Outcome): number {
  const u = (o.sendMs * 7919) % 10;
  return u < 7 ? 0 : u < 9 ? 1 : 2;
}

/**
 * A pod-kill-like Game Day without processes: 60 s at 200 req/s, a kill at 20 s with a short
 * outage, analysed and turned into result.json exactly as a real run is.
 */
export function syntheticResult(opts: SyntheticRun = {}): ResultDocument {
  return syntheticRun(opts).result;
}

/** syntheticResult, with the timeline it was built from. */
export function syntheticRun(opts: SyntheticRun = {}): { result: ResultDocument; timeline: TimelineData } {
  const plan = { ...planWith([check({ id: 'SC-009', metric: 'requests.status5xx', comparator: '==', threshold: 0 }), check({ id: 'SC-010', metric: 'latency.p95', comparator: '<', threshold: 500 })], [podKill('kill', KILL_AT)]), regression: regressionPlan(undefined) };
  const scale = opts.latencyScale ?? 1;
  const scaled: Service = (s, rnd) => {
    const a = healthy(s, rnd);
    return a.kind === 'response' ? { ...a, latencyMs: a.latencyMs * scale * (rnd() < 0.02 ? 6 : 1) } : a;
  };
  const recorder = new TimelineRecorder({ phases: plan.phases, sloLatencyMs: plan.slo.latencyP95Ms, maxLatencyMs: 10_000, requests: FIXTURE_REQUESTS });
  feed(recorder, generate({ ratePerSec: 200, toMs: plan.durationMs, seed: opts.seed ?? 1, service: outage(scaled, KILL_AT, KILL_AT + (opts.outageMs ?? 300), refused) }), fixtureOp);
  const timeline = recorder.snapshot();
  const result = buildResult(plan, analyse(plan, timeline, events()), 'completed', { command: 'gameday run fixture.yaml', gitCommit: 'abc123', startedAt: '2027-01-01T00:00:00.000Z' });
  return { result: { ...result, ...(opts.extra ?? {}) } as ResultDocument, timeline };
}
