/**
 * The Service as its own process, as kube-proxy is not part of the client: the bytes it moves
 * must not share an event loop with the load generator whose latencies they would distort.
 * Controlled over IPC; exits when the harness goes away.
 */
import { Service } from './service.js';
import type { ServiceCommand, ServiceMessage } from './service-protocol.js';

const service = new Service();
const send = (msg: ServiceMessage): void => {
  process.send?.(msg);
};

process.on('message', (msg: ServiceCommand) => {
  switch (msg.op) {
    case 'add':
      service.add({ name: msg.name, port: msg.port });
      break;
    case 'remove':
      service.remove(msg.name);
      break;
  }
  send({ event: 'ack', seq: msg.seq, endpoints: service.endpointNames().length });
});

const shutdown = (): void => {
  void service.close().then(() => process.exit(0));
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => undefined); // the harness decides when the Service stops

const port = await service.listen(process.env['SERVICE_HOST'] ?? '127.0.0.1');
send({ event: 'listening', port });
