import { fmt, rate } from './judge.js';
import type { MassTermination } from './recovery.js';

export interface ForecastInput {
  peak: number;
  /** The knee with every replica, and with one fewer (either may be a lower bound or missing). */
  knee: { replicas: number; rate: number };
  kneeMinusOne?: { replicas: number; rate: number };
  /** Replicas lost at once that the peak must survive. */
  loss: number;
  recovery?: MassTermination;
}

export interface Forecast {
  peak: number;
  /** The per-replica capacity used: the smaller of knee/N and knee(N−1)/(N−1) (conservative). */
  perReplicaRate: number;
  /** Replicas that serve the peak with the SLO met, none lost. */
  replicasForPeak: number;
  loss: number;
  /** replicasForPeak + loss: the peak still served while `loss` replicas recover. */
  replicas: number;
  /** replicas ÷ replicasForPeak. */
  overprovisioning: number;
  /** The capacity while `loss` replicas recover ((replicas − loss) × perReplicaRate) and its headroom over the peak. */
  netRateWhileRecovering: number;
  /** How long that lasts (measured: mass termination's time to 100 %), ms. */
  recoveryLagMs: number | null;
  /** The reasoning, one line a step. */
  arithmetic: string[];
}

/**
 * Replicas needed to serve the peak with the SLO met even while recovering from the loss of
 * `loss` replicas: net available capacity, (R − loss) × c, must carry the peak for the whole
 * recovery lag, so R = ceil(peak ÷ c) + loss, with c the measured per-replica capacity.
 */
export function forecast(input: ForecastInput): Forecast {
  const perN = input.knee.rate / input.knee.replicas;
  const perN1 = input.kneeMinusOne && input.kneeMinusOne.replicas > 0 ? input.kneeMinusOne.rate / input.kneeMinusOne.replicas : undefined;
  const c = perN1 !== undefined ? Math.min(perN, perN1) : perN;
  const lines: string[] = [];
  lines.push(`per-replica capacity c = ${perN1 !== undefined ? `min(${rate(input.knee.rate)}/${input.knee.replicas}, ${rate(input.kneeMinusOne?.rate ?? 0)}/${input.kneeMinusOne?.replicas}) = min(${rate(round(perN))}, ${rate(round(perN1))})` : `${rate(input.knee.rate)}/${input.knee.replicas}`} = ${rate(round(c))} req/s`);
  if (!(c > 0)) {
    lines.push('no replica met the SLO: nothing to forecast from');
    return { peak: input.peak, perReplicaRate: 0, replicasForPeak: 0, loss: input.loss, replicas: 0, overprovisioning: 0, netRateWhileRecovering: 0, recoveryLagMs: input.recovery?.capacityBackMs.p100 ?? null, arithmetic: lines };
  }
  const forPeak = Math.max(1, Math.ceil(input.peak / c - 1e-9));
  const replicas = forPeak + input.loss;
  const net = (replicas - input.loss) * c;
  lines.push(`replicas for the peak = ceil(${rate(input.peak)} / ${rate(round(c))}) = ${forPeak}`);
  lines.push(`replicas = ${forPeak} + ${input.loss} lost = ${replicas} (overprovisioning ${fmt(round(replicas / forPeak))}×)`);
  lines.push(`net capacity while ${input.loss} recover${input.loss === 1 ? 's' : ''} = (${replicas} − ${input.loss}) × ${rate(round(c))} = ${rate(round(net))} req/s ≥ peak ${rate(input.peak)} (headroom ${rate(round(net - input.peak))} req/s)`);
  const lag = input.recovery?.capacityBackMs.p100 ?? null;
  if (input.recovery) {
    const r = input.recovery;
    lines.push(lag !== null
      ? `recovery lag (measured: ${r.killed} of ${r.replicasBefore} replicas killed, all ready again ${fmt(round(lag / 1000))} s later): for that long ${replicas - input.loss} replicas carry the peak at ${rate(round(net))} req/s`
      : `recovery lag: the killed replicas were not all ready again within the watch (${fmt(r.watchedMs / 1000)} s); until they are, ${replicas - input.loss} replicas carry the peak`);
  }
  return { peak: input.peak, perReplicaRate: round(c), replicasForPeak: forPeak, loss: input.loss, replicas, overprovisioning: round(replicas / forPeak), netRateWhileRecovering: round(net), recoveryLagMs: lag, arithmetic: lines };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
