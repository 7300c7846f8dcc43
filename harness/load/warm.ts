import { createRequire } from 'node:module';
import { createServer, isIPv6, type AddressInfo, type Socket } from 'node:net';
import { assertAllowedTarget, guardedConnector, type TargetAccess } from './loopback.js';

/** How long a run waits for its connections before its clock's zero; later ones still join. */
export const WARM_WAIT_MS = 1_000;

/**
 * Connections opened before a run's zero, handed to the open model's pool as it asks for sockets,
 * so its first arrivals go out on time instead of waiting behind connection set-up (and then
 * leaving as one burst of overdue requests). Each socket comes through the same connector as any
 * other (host policy, TLS, connect timeout). Idle sockets do not keep the process alive; whatever
 * is not taken is closed by the driver at the end of its run (or by `close()`).
 */
export class WarmConnections {
  private readonly ready: Socket[] = [];
  private closed = false;

  /** An open socket, or undefined when none is left (the pool then connects as usual). */
  take(): Socket | undefined {
    for (let s = this.ready.pop(); s; s = this.ready.pop()) {
      s.removeListener('error', ignore);
      if (!s.destroyed && s.readyState === 'open') {
        // Back to paused mode: undici reads it through 'readable'.
        s.pause();
        return s;
      }
      s.destroy();
    }
    return undefined;
  }

  get size(): number {
    return this.ready.length;
  }

  add(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.on('error', ignore);
    // Flowing while it waits, so a close by the server is seen (the socket then ends and is skipped).
    socket.resume();
    socket.unref();
    this.ready.push(socket);
  }

  close(): void {
    this.closed = true;
    for (const s of this.ready.splice(0)) s.destroy();
  }
}

function ignore(): void {}

/**
 * Opens `count` connections to `url` through the guarded connector, in parallel; resolves once all
 * are open or failed, or after `maxWaitMs` (the rest join as they open). A refused or failed
 * connection is left to the run, which reports its requests' errors as it would without warm-up.
 */
export async function openConnections(url: string, access: TargetAccess, count: number, timeoutMs: number, signal?: AbortSignal, maxWaitMs = WARM_WAIT_MS): Promise<WarmConnections> {
  const parsed = assertAllowedTarget(url, access);
  const connect = guardedConnector(access, timeoutMs);
  const warm = new WarmConnections();
  const https = parsed.protocol === 'https:';
  // As undici passes them: a bracketed IPv6 literal without its brackets.
  const hostname = parsed.hostname.startsWith('[') && isIPv6(parsed.hostname.slice(1, -1)) ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const opts = { host: parsed.host, hostname, protocol: parsed.protocol, port: parsed.port || (https ? '443' : '80'), servername: null } as unknown as Parameters<typeof connect>[0];
  await warmClientCode();
  let pending = count;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    timer.unref();
    const onAbort = (): void => (clearTimeout(timer), resolve());
    signal?.addEventListener('abort', onAbort, { once: true });
    const settled = (): void => {
      if (--pending > 0) return;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    if (count <= 0 || signal?.aborted) return onAbort();
    for (let i = 0; i < count; i++) {
      connect(opts, (err, socket) => {
        if (!err && socket) warm.add(socket as Socket);
        settled();
      });
    }
  });
  return warm;
}

let clientCodeWarm: Promise<void> | undefined;

/**
 * undici compiles its HTTP parser (WebAssembly, synchronously: tens of ms, more on a busy machine)
 * when its first connection opens, which would stall the first arrivals of a run. One request to a
 * throwaway server of this process on loopback, once per process, does that before the run (and
 * warms the request path). Nothing reaches the target. Failures are ignored: it is only an optimisation.
 */
export function warmClientCode(): Promise<void> {
  clientCodeWarm ??= (async () => {
    const server = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.end('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n'));
    });
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
      const { Client } = createRequire(import.meta.url)('undici') as typeof import('undici');
      const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      try {
        const res = await client.request({ method: 'GET', path: '/' });
        await res.body.dump();
      } finally {
        await client.destroy();
      }
    } catch {
      // not warmed: the first connection of the run pays for it, as without warm-up
    } finally {
      server.close();
    }
  })();
  return clientCodeWarm;
}
