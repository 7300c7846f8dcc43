import type { StepMeasure } from './step.js';

export type StepVerdict = 'ok' | 'fail' | 'generator-limited';

export interface CapacitySlo {
  latencyP95Ms: number;
  failureRatio: number;
  achievedRatio: number;
}

/** A step that send lag or the generator's own CPU this high says nothing about the service. */
export const GENERATOR_SEND_LAG_MS = 50;
export const GENERATOR_CPU_CORES = 0.9;
/** Drops at maxInFlight while responses are this close to the lowest step's mean: the generator's cap, not a queue. */
export const UNQUEUED_MEAN_FACTOR = 2;

export interface JudgedStep extends StepMeasure {
  verdict: StepVerdict;
  /** Why the SLO failed (empty when it held). */
  reasons: string[];
  /** Why the load generator, not the service, is the limit (only on a step that failed). */
  generatorLimits: string[];
}

/**
 * Did the service keep up at this rate? p95 within the target, failures within the budget, and
 * served throughput at least `achievedRatio` of offered. A step that failed while the generator
 * itself fell behind (send lag, its CPU saturated, or drops at its maxInFlight while the service
 * answered as fast as at the lowest rate) is "generator-limited": no figure about the service.
 * `reference`: the mean latency at the lowest step, the service's unqueued answer time.
 */
export function judgeStep(m: StepMeasure, slo: CapacitySlo, referenceMeanMs?: number): JudgedStep {
  const reasons: string[] = [];
  if (m.arrivals === 0) reasons.push('no arrivals in the judged part');
  if (m.p95Ms !== null && m.p95Ms > slo.latencyP95Ms) reasons.push(`p95 ${fmt(m.p95Ms)} ms > ${fmt(slo.latencyP95Ms)} ms`);
  if (m.failureRatio > slo.failureRatio) reasons.push(`failures ${pct(m.failureRatio)} > ${pct(slo.failureRatio)} (${m.status5xx} 5xx, ${m.transportErrors} transport errors, ${m.dropped} dropped)`);
  if (m.achievedRate < slo.achievedRatio * m.rate) reasons.push(`achieved ${fmt(m.achievedRate)}/s < ${pct(slo.achievedRatio)} of ${fmt(m.rate)}/s offered`);
  const generatorLimits: string[] = [];
  if (reasons.length > 0) {
    const g = m.generator;
    if (g.sendLagP99Ms !== null && g.sendLagP99Ms > GENERATOR_SEND_LAG_MS) generatorLimits.push(`send lag p99 ${fmt(g.sendLagP99Ms)} ms behind the schedule (> ${GENERATOR_SEND_LAG_MS} ms)`);
    if (g.cpuCores >= GENERATOR_CPU_CORES) generatorLimits.push(`the generator's own CPU saturated (${fmt(g.cpuCores)} of its one core)`);
    const unqueued = referenceMeanMs !== undefined && m.meanMs !== null && m.meanMs <= UNQUEUED_MEAN_FACTOR * referenceMeanMs;
    if (m.dropped > 0 && unqueued) {
      generatorLimits.push(`${m.dropped} arrivals dropped at the generator's maxInFlight (${g.maxInFlight}) while the service answered in ${fmt(m.meanMs ?? 0)} ms on average, as at the lowest rate (${fmt(referenceMeanMs ?? 0)} ms): at most ~${fmt((g.maxInFlight * 1000) / Math.max(1, m.meanMs ?? 1))}/s can be in flight`);
    }
  }
  const verdict: StepVerdict = reasons.length === 0 ? 'ok' : generatorLimits.length > 0 ? 'generator-limited' : 'fail';
  return { ...m, verdict, reasons, generatorLimits };
}

export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * A rate (req/s) as its figure is kept (to 0.01): fmt would show 199.99 as "200", a knee that then
 * reads as meeting a 200/s peak its own headroom says it misses by 0.01/s.
 */
export function rate(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export function pct(ratio: number): string {
  return `${fmt(Math.round(ratio * 10000) / 100)}%`;
}
