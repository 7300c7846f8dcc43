// A target for the ramping-load bench, in its own process so the load generator does not share its
// event loop: answers every request with a small JSON body and keeps the instant each arrived
// (high-resolution epoch ms), sent back over IPC when asked.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const body = JSON.stringify({ id: 1, title: 'bench', status: 'pending', priority: 3 });
const received: number[] = [];
const server = createServer((req, res) => {
  received.push(performance.timeOrigin + performance.now());
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('message', (m) => {
  if (m === 'received') process.send?.({ received });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
