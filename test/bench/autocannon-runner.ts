// Bare autocannon in its own process, so its CPU time is its own: runs one measurement per IPC
// message and answers with the responses it counted and process.cpuUsage() (user + system) over
// the autocannon call alone (not this process's start-up). Exits with its parent.
import autocannon from 'autocannon';
import { bareOrderRequest } from './templated.js';

interface Ask {
  url: string;
  connections: number;
  seconds: number;
  /** Requests per second over all connections (autocannon's overallRate); absent: closed loop. */
  overallRate?: number;
}

process.on('message', (m) => {
  const ask = m as Ask;
  void (async () => {
    const before = process.cpuUsage();
    const result = await autocannon({
      url: ask.url,
      connections: ask.connections,
      duration: ask.seconds,
      ...(ask.overallRate ? { overallRate: ask.overallRate } : {}),
      requests: [{ setupRequest: (req) => ({ ...req, ...bareOrderRequest() }) }],
    });
    const cpu = process.cpuUsage(before);
    process.send?.({ responses: result.requests.total, non2xx: result.non2xx, errors: result.errors + result.timeouts, cpuUs: cpu.user + cpu.system });
  })();
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send?.('ready');
