import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback service for regression-gate tests: `/health`, one page of 100 tasks, and
 * `GET /tasks/:id` answered after `delayMs` — a knob for a real, known latency regression.
 */
export interface DelayServer {
  url: string;
  delayMs: number;
  close(): Promise<void>;
}

const TASKS = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, title: `task ${i + 1}`, status: 'pending', priority: 3 }));

export async function startDelayServer(delayMs: number): Promise<DelayServer> {
  const state = { delayMs };
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return send(200, { status: 'ok' });
    if (path === '/tasks') return send(200, { items: TASKS, next_cursor: null });
    const id = Number(/^\/tasks\/(\d+)$/.exec(path ?? '')?.[1]);
    setTimeout(() => send(id >= 1 && id <= TASKS.length ? 200 : 404, TASKS[id - 1] ?? { error: 'not found' }), state.delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A short Game Day against `url`: open-model reads only, no faults. Twelve judged seconds: the
 * gate's bootstrap resamples whole seconds, and fewer make a +30 % change hard to tell from noise.
 */
export function delayScenario(url: string, name = 'gate-check'): string {
  return `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: ${name} }
spec:
  duration: 13s
  warmup: 1s
  target: { url: "${url}" }
  load: { model: open, rate: 200, connections: 16, mix: { get: 100 } }
  checks:
    - { id: P95, name: p95 under 500 ms, metric: latency.p95, target: "< 500ms" }
`;
}
