import { connect, type Socket } from 'node:net';

/**
 * A deliberately slow HTTP/1.1 client on a raw loopback socket: it writes `head` at once, then
 * `drip` one byte every `everyMs`, and records what came back and when the server closed the
 * connection. Bounded: it stops dripping and destroys the socket after `maxMs` at the latest.
 */
export interface SlowResult {
  /** Everything the server sent, as text. */
  response: string;
  /** Status code of the first response line, if any. */
  status: number | undefined;
  /** The JSON body of the response, when it had one. */
  body: unknown;
  /** From connect until the server closed (or `maxMs`, if it never did). */
  elapsedMs: number;
  /** False when the connection was still open at `maxMs`. */
  closedByServer: boolean;
  bytesSent: number;
}

export interface SlowRequest {
  port: number;
  head: string;
  drip?: string;
  everyMs?: number;
  maxMs: number;
  /** Called once the socket is connected and `head` is written (to do something mid-request). */
  onStarted?: () => void;
}

export function slowRequest({ port, head, drip = '', everyMs = 100, maxMs, onStarted }: SlowRequest): Promise<SlowResult> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let response = '';
    let bytesSent = 0;
    let next = 0;
    let ticker: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean): void => {
      clearInterval(ticker);
      clearTimeout(deadline);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
      const bodyText = response.split('\r\n\r\n')[1] ?? '';
      let body: unknown;
      try {
        body = bodyText === '' ? undefined : JSON.parse(bodyText);
      } catch {
        body = undefined;
      }
      resolve({ response, status: status === undefined ? undefined : Number(status), body, elapsedMs: performance.now() - startedAt, closedByServer, bytesSent });
    };
    const deadline = setTimeout(() => finish(false), maxMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      bytesSent += Buffer.byteLength(head);
      onStarted?.();
      if (drip === '') return;
      ticker = setInterval(() => {
        if (next >= drip.length || socket.destroyed) return clearInterval(ticker);
        socket.write(drip[next] ?? '');
        next += 1;
        bytesSent += 1;
      }, everyMs);
    });
  });
}
