import { it } from 'vitest';
import { createLoadDriver } from '../../harness/load/index.js';
import { DEFAULT_MIX } from '../../harness/load/mix.js';
import { RecordingSink, delay, percentile, realClock } from './recording-sink.js';
import { startTaskServer } from './task-server.js';

it('debug', async () => {
  const s = await startTaskServer({ delayMs: 20, destroyAtRequest: 5 });
  const sink = new RecordingSink();
  const run = createLoadDriver({ model: 'closed', connections: 10, timeoutMs: 2000, mix: [...DEFAULT_MIX], seed: 3 }, realClock()).start({ url: s.url, ids: [...s.tasks.keys()] }, sink, new AbortController().signal);
  await delay(1500);
  run.stop();
  await run.done;
  const lat = sink.responses.map((r) => r.latencyMs);
  console.log('n', lat.length, 'p50', percentile(lat, 50), 'p90', percentile(lat, 90), 'p99', percentile(lat, 99));
  const slow = sink.responses.filter((r) => r.latencyMs > 45).map((r) => [Math.round(r.endMs), Math.round(r.latencyMs), r.op]);
  console.log(JSON.stringify(slow));
  console.log(JSON.stringify(sink.errors.slice(0, 20).map((r) => [Math.round(r.endMs), Math.round(r.latencyMs)])));
  await s.close();
});
import autocannon from 'autocannon';
it('bare', async () => {
  const s = await startTaskServer({ delayMs: 30, destroyAtRequest: 5 });
  const lat: number[] = [];
  const inst = autocannon({ url: `${s.url}/tasks/1`, connections: 10, duration: 1.5 }) as any;
  inst.on('response', (_c: unknown, _s: number, _b: number, ms: number) => lat.push(ms));
  await inst;
  const lat2=[...lat];console.log('first/last', JSON.stringify(lat2.slice(0,30).map(Math.round)), JSON.stringify(lat2.slice(-30).map(Math.round)));console.log('bare n', lat.length, 'p50', percentile(lat, 50), 'p95', percentile(lat, 95), 'recv', s.stats.received, 'destroyed', s.stats.destroyed);
  await s.close();
});
