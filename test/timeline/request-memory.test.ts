import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RequestTrack } from '../../harness/timeline/requests.js';
import { prng } from './synthetic.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live memory: the JS heap plus typed arrays' backing stores (where histograms keep their counts). */
function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const REQUESTS = 50;
const PHASES = 5;
const MAX_LATENCY_MS = 10_000;
const RING = Math.ceil(MAX_LATENCY_MS / 1000) + 3; // as TimelineRecorder sizes it
const PER_SECOND = 2;

describe('per-request memory', () => {
  it('50 requests over an hour: a fixed set of histograms, then 32 bytes a request-second', { timeout: 120_000 }, () => {
    const rnd = prng(5);
    const before = used();
    const tracks = Array.from({ length: REQUESTS }, (_, i) => new RequestTrack({ name: `r${i}` }, PHASES, RING, MAX_LATENCY_MS));
    const feed = (from: number, to: number): void => {
      for (let s = from; s < to; s++) {
        // Every phase is met in the first 10 minutes (the last one lasts), so what grows after is time alone.
        const phase = Math.min(PHASES - 1, Math.floor(s / 100));
        for (const t of tracks) for (let k = 0; k < PER_SECOND; k++) t.outcome(s, phase, 1, 1000 + Math.floor(200_000 * rnd() * rnd()), 0, 0, 0);
      }
    };
    feed(0, 600);
    const tenMinutes = used();
    feed(600, 3600);
    const hour = used();
    const perRequestHour = (hour - before) / REQUESTS;
    // Growth from 10 min to 60 min, per request and per hour: the sealed seconds only.
    const growthPerRequestHour = ((hour - tenMinutes) / REQUESTS) * (3600 / 3000);
    console.log(
      `per-request memory: ${(perRequestHour / 1024).toFixed(0)} KiB per request-hour in all ` +
        `(${RING} open seconds + ${PHASES} phases of 32-bit histograms), growing ${(growthPerRequestHour / 1024).toFixed(0)} KiB per request-hour`,
    );
    // Keeping a 32-bit histogram (~61 KiB at a 10 s range) per request-second would grow 215 MiB per request-hour.
    expect(growthPerRequestHour).toBeLessThan(400 * 1024);
    expect(perRequestHour).toBeLessThan(2 * 1024 * 1024);
    // Still the right figures after an hour: the last second is open, the first long sealed.
    const snap = tracks[0]?.snapshot(3600);
    expect(snap?.seconds.count[0]).toBe(PER_SECOND);
    expect(snap?.seconds.count[3599]).toBe(PER_SECOND);
    expect(snap?.seconds.p99Us[0]).toBeGreaterThan(1000);
    expect(snap?.phases.reduce((sum, p) => sum + p.count, 0)).toBe(3600 * PER_SECOND);
  });
});
