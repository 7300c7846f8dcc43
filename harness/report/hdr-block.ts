import type { PhaseName } from '../scenario/plan.js';
import type { TimelineData } from '../timeline/index.js';
import { HDR_ENCODING, encodeHistogram } from './hdr.js';
import { percentileCurve, type PercentilePoint } from './percentiles.js';
import { requestHistograms } from './requests.js';

/** The run's latency histograms (µs), encoded: one per second of `timeline`, one per phase span. */
export interface HdrBlock {
  encoding: typeof HDR_ENCODING;
  unit: 'us';
  /** Aligned with result.timeline by index. */
  seconds: string[];
  /** Aligned with result.phases by index. */
  phases: string[];
  /** Per workload request (result.requests.byName), its histogram per phase span, aligned with result.phases. */
  requests: Record<string, string[]>;
}

/** The latency distribution of one phase span, for the percentile plot. */
export interface PhaseDistribution {
  phaseIndex: number;
  phase: PhaseName;
  fault?: string;
  responses: number;
  points: PercentilePoint[];
}

export function hdrBlock(t: TimelineData): HdrBlock {
  return {
    encoding: HDR_ENCODING,
    unit: 'us',
    seconds: t.seconds.map((s) => encodeHistogram(s.histogram)),
    phases: t.phases.map((p) => encodeHistogram(p.histogram)),
    requests: requestHistograms(t),
  };
}

export function latencyDistributions(t: TimelineData): PhaseDistribution[] {
  return t.phases.map((p) => ({
    phaseIndex: p.index,
    phase: p.span.phase,
    ...(p.span.fault !== undefined ? { fault: p.span.fault } : {}),
    responses: p.responses,
    points: percentileCurve(p.histogram),
  }));
}
