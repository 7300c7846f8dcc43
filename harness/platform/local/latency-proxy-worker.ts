import { parentPort, workerData } from 'node:worker_threads';
import { seededRandom } from '../../core/random.js';
import { InLoopLatencyProxy, sharedDelay, type LatencyProxyWorkerData, type LatencyProxyWorkerMessage } from './latency-proxy.js';

/**
 * The latency proxy's thread (started by LatencyProxy): runs the proxy on this thread's event
 * loop, applies the delay the harness publishes in shared memory, and exits on 'close'.
 */
const data = workerData as LatencyProxyWorkerData;
const port = parentPort;
if (!port) throw new Error('latency-proxy-worker runs as a worker thread');
const send = (msg: LatencyProxyWorkerMessage): void => port.postMessage(msg);

let applied = 0;
let proxy: InLoopLatencyProxy | undefined;

/** Applies the delay the harness set since the last look (before each chunk, and when woken). */
function sync(): void {
  const version = Atomics.load(data.version, 0);
  if (version === applied || !proxy) return;
  applied = version;
  const delay = sharedDelay(data.spec);
  if (delay) proxy.setDelay(delay);
  else proxy.clearDelay();
}

try {
  proxy = await InLoopLatencyProxy.start({
    upstreamHost: data.upstreamHost,
    upstreamPort: data.upstreamPort,
    cells: data.cells,
    beforeSample: sync,
    ...(data.seed === undefined ? {} : { random: seededRandom(data.seed) }),
  });
  sync();
  port.on('message', (msg: { op: 'sync' | 'close' }) => {
    if (msg.op === 'sync') return sync();
    // Connections and listener gone, the port closed: nothing is left to keep the thread alive.
    void proxy?.close().then(() => port.close());
  });
  send({ event: 'listening', port: proxy.port });
} catch (err) {
  send({ event: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
