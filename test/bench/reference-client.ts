// The reference for the truth-under-load part of the bench: a minimal open-model HTTP/1.1 client on
// raw sockets, scheduled as wrk2 schedules (no wrk2 binary is installable here: see
// readme-load.md). Arrival k is due at k / rate; connection k mod N owns it; a connection has one
// request on the wire at a time and sends its next due request the moment the previous answer is
// read, so a slow answer delays the ones queued behind it and every latency is measured from the
// arrival's intended send time (coordinated omission corrected). Nothing else: no templates, no
// recorder, one HDR histogram. GET /tasks/:id, a random seeded id.
import { connect, type Socket } from 'node:net';

interface Ask {
  url: string;
  connections: number;
  seconds: number;
  ratePerSec: number;
}

const IDS = 1000;
const CRLF2 = Buffer.from('\r\n\r\n');

class Conn {
  /** Intended send times of arrivals owned by this connection and not yet answered, oldest first. */
  readonly due: number[] = [];
  head = 0;
  busy = false;
  private buf: Buffer = Buffer.alloc(0);
  constructor(
    readonly socket: Socket,
    private readonly host: string,
    private readonly onAnswer: (c: Conn, status: number) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  send(): void {
    this.busy = true;
    const id = 1 + Math.floor(Math.random() * IDS);
    this.socket.write(`GET /tasks/${id} HTTP/1.1\r\nhost: ${this.host}\r\n\r\n`);
  }

  /** Reads whole responses (status line, content-length, body); chunked bodies are not expected of the target. */
  private read(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (this.buf.length < total) return;
      const status = Number(head.slice(9, 12));
      this.buf = this.buf.subarray(total);
      this.onAnswer(this, status);
    }
  }
}

export async function runReference(ask: Ask): Promise<{ completed: number; failed: number; p50Ms: number; p99Ms: number }> {
  const url = new URL(ask.url);
  // Loaded here, not at the top: bundled into open-client.mjs, a top-level import would load the
  // package's main entry (its WebAssembly build, pako, an Intl formatter: ~7 MB of RSS) into every side.
  const { build } = await import('hdr-histogram-js');
  const histogram = build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, bitBucketSize: 32, useWebAssembly: false });
  let completed = 0;
  let failed = 0;
  const onAnswer = (c: Conn, status: number): void => {
    const intended = c.due[c.head++] as number;
    histogram.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
    completed++;
    if (status >= 400) failed++;
    if (c.head > 1024) (c.due.splice(0, c.head), (c.head = 0));
    c.busy = false;
    if (c.head < c.due.length) c.send();
  };
  // Connections are open before the schedule starts (wrk2 connects first, too).
  const conns = await Promise.all(
    Array.from({ length: ask.connections }, () =>
      new Promise<Conn>((resolve, reject) => {
        const s = connect(Number(url.port), url.hostname, () => resolve(new Conn(s, url.host, onAnswer)));
        s.once('error', reject);
      }),
    ),
  );
  const interval = 1000 / ask.ratePerSec;
  const t0 = performance.now();
  const end = t0 + ask.seconds * 1000;
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = Math.min(performance.now(), end);
      for (let next = t0 + k * interval; next <= now; next = t0 + ++k * interval) {
        const c = conns[k % conns.length] as Conn;
        c.due.push(next);
        if (!c.busy) c.send();
      }
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  // Outstanding answers: up to 10 s.
  const drainBy = performance.now() + 10_000;
  while (conns.some((c) => c.head < c.due.length) && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
  for (const c of conns) failed += c.due.length - c.head;
  for (const c of conns) c.socket.destroy();
  return { completed, failed, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000 };
}
