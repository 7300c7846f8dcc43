import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../harness/core/clock.js';

/**
 * A Task-API-shaped loopback service with a fault switch: `POST /switch {"down":true}` makes
 * every other request answer 503 until `{"down":false}`. Each flip is stamped with the given clock
 * (the run's), so a test knows the outage's true start and end on the run's timeline.
 */
export class SwitchServer {
  readonly flips: { down: boolean; atMs: number; authorization?: string }[] = [];
  url = '';
  private down = false;
  private server?: Server;

  constructor(private readonly clock: Clock) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const send = (status: number, body: string): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      if (req.method === 'POST' && req.url?.split('?')[0] === '/switch') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          const down = (JSON.parse(body) as { down?: unknown }).down === true;
          this.down = down;
          this.flips.push({ down, atMs: this.clock.now(), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
          send(200, JSON.stringify({ down }));
        });
        return;
      }
      req.resume();
      if (this.down) return send(503, '{"error":"switched off"}');
      if (req.url === '/health') return send(200, '{"status":"ok"}');
      if (req.method === 'GET' && req.url?.startsWith('/tasks?')) return send(200, '{"items":[{"id":1},{"id":2},{"id":3}],"next_cursor":null}');
      if (req.method === 'POST') return send(201, '{"id":4,"title":"t"}');
      send(200, '{"id":1,"title":"t"}');
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The outages the switch made: [down, up) on the run clock. */
  outages(): { startMs: number; endMs: number }[] {
    const out: { startMs: number; endMs: number }[] = [];
    let since: number | undefined;
    for (const f of this.flips) {
      if (f.down && since === undefined) since = f.atMs;
      if (!f.down && since !== undefined) {
        out.push({ startMs: since, endMs: f.atMs });
        since = undefined;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
