import { seededRandom } from '../../harness/core/random.js';
import type { ResponseSink, TransportErrorKind } from '../../harness/load/types.js';
import type { PhaseSpan } from '../../harness/scenario/plan.js';

/**
 * Synthetic outcome streams for timeline and verdict tests: requests sent at a steady rate with
 * jitter, each answered by a "service" that is a plain function of the send time.
 */
export type Answer =
  | { kind: 'response'; status: number; latencyMs: number }
  | { kind: 'error'; error: TransportErrorKind; latencyMs: number }
  | { kind: 'drop' };

export type Outcome = Answer & { sendMs: number; endMs: number };
export type Service = (sendMs: number, rnd: () => number) => Answer;

/** A small deterministic PRNG, so every test stream is reproducible. */
export const prng = seededRandom;

/** Healthy service: 200 in 5 ms ± 2 ms. */
export const healthy: Service = (_s, rnd) => ({ kind: 'response', status: 200, latencyMs: 3 + 4 * rnd() });

/** `base`, except requests sent in [fromMs, toMs) get `during`. */
export function outage(base: Service, fromMs: number, toMs: number, during: Service): Service {
  return (s, rnd) => (s >= fromMs && s < toMs ? during(s, rnd) : base(s, rnd));
}

export const refused: Service = (_s, rnd) => ({ kind: 'error', error: 'refused', latencyMs: 0.5 + rnd() });
export const http503: Service = (_s, rnd) => ({ kind: 'response', status: 503, latencyMs: 2 + 2 * rnd() });
export const stalled =
  (stallMs: number): Service =>
  (_s, rnd) => ({ kind: 'response', status: 200, latencyMs: stallMs + rnd() });

/** `base` with a fraction `ratio` of responses taking `latencyMs` instead. */
export function outliers(base: Service, ratio: number, latencyMs: number): Service {
  return (s, rnd) => (rnd() < ratio ? { kind: 'response', status: 200, latencyMs } : base(s, rnd));
}

export interface StreamSpec {
  ratePerSec: number;
  fromMs?: number;
  toMs: number;
  seed?: number;
  service: Service;
}

/** Every outcome, in completion order (as a load driver reports them). */
export function generate(spec: StreamSpec): Outcome[] {
  const rnd = prng(spec.seed ?? 1);
  const interval = 1000 / spec.ratePerSec;
  const out: Outcome[] = [];
  for (let slot = Math.ceil((spec.fromMs ?? 0) / interval); slot * interval < spec.toMs; slot++) {
    const sendMs = (slot + rnd()) * interval;
    const answer = spec.service(sendMs, rnd);
    const endMs = answer.kind === 'drop' ? sendMs : sendMs + answer.latencyMs;
    out.push({ ...answer, sendMs, endMs });
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

/** Reports every outcome to `sink`, as request `op` (default: every outcome is request 0). */
export function feed(sink: ResponseSink, outcomes: readonly Outcome[], opOf: (o: Outcome) => number = () => 0): void {
  for (const o of outcomes) {
    const op = opOf(o);
    if (o.kind === 'response') sink.response(op, o.endMs, o.latencyMs, o.status);
    else if (o.kind === 'error') sink.transportError(op, o.endMs, o.latencyMs, o.error);
    else sink.dropped?.(op, o.endMs);
  }
}

/** warmup, baseline, then per fault: fault, recovery; `after` to the end. */
export function phasesOf(durationMs: number, warmupMs: number, faults: Array<{ name: string; atMs: number; durationMs: number }>, recoveryMs = 10_000): PhaseSpan[] {
  const spans: PhaseSpan[] = [{ phase: 'warmup', startMs: 0, endMs: warmupMs }];
  let t = warmupMs;
  for (const f of faults) {
    if (f.atMs > t) spans.push({ phase: t === warmupMs ? 'baseline' : 'after', startMs: t, endMs: f.atMs });
    spans.push({ phase: 'fault', startMs: f.atMs, endMs: f.atMs + f.durationMs, fault: f.name });
    spans.push({ phase: 'recovery', startMs: f.atMs + f.durationMs, endMs: f.atMs + f.durationMs + recoveryMs, fault: f.name });
    t = f.atMs + f.durationMs + recoveryMs;
  }
  if (durationMs > t) spans.push({ phase: faults.length ? 'after' : 'baseline', startMs: t, endMs: durationMs });
  return spans;
}

/** The percentile as HdrHistogram defines it: the value of rank ⌈p·n⌉ in sorted order. */
export function brutePercentile(sortedUs: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p * sortedUs.length) / 100));
  return sortedUs[rank - 1] ?? Number.NaN;
}

/** Latency as the recorder stores it: integer µs, at least 1. */
export function micros(latencyMs: number): number {
  return Math.max(1, Math.round(latencyMs * 1000));
}

/**
 * The open model's `maxInFlight`: an arrival that finds `maxInFlight` requests outstanding is
 * dropped (a failure at its intended time, never sent). Returns the stream in completion order.
 */
export function withInFlightLimit(outcomes: readonly Outcome[], maxInFlight: number): Outcome[] {
  const bySend = [...outcomes].sort((a, b) => a.sendMs - b.sendMs);
  const outstanding: number[] = []; // end times of requests in flight
  const out: Outcome[] = [];
  for (const o of bySend) {
    for (let i = outstanding.length - 1; i >= 0; i--) if ((outstanding[i] as number) <= o.sendMs) outstanding.splice(i, 1);
    if (o.kind !== 'drop' && outstanding.length >= maxInFlight) {
      out.push({ kind: 'drop', sendMs: o.sendMs, endMs: o.sendMs });
      continue;
    }
    if (o.kind !== 'drop') outstanding.push(o.endMs);
    out.push(o);
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

/** A service that stops answering: every request sent to it times out after `timeoutMs`. */
export const hung =
  (timeoutMs: number): Service =>
  () => ({ kind: 'error', error: 'timeout', latencyMs: timeoutMs });
