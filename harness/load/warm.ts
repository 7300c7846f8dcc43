import { isIPv6, type Socket } from 'node:net';
import { assertAllowedTarget, type TargetAccess } from './loopback.js';
import { leanConnector, type ConnectOptions } from './http1.js';

/** How long a run waits for its connections before its clock's zero; later ones still join. */
export const WARM_WAIT_MS = 1_000;

/**
 * Connections opened before a run's zero, handed to the open model's client as it asks for sockets,
 * so its first arrivals go out on time instead of waiting behind connection set-up (and then
 * leaving as one burst of overdue requests). Each socket comes through the same connector as any
 * other (host policy, TLS, connect timeout). Idle sockets do not keep the process alive; whatever
 * is not taken is closed by the driver at the end of its run (or by `close()`).
 */
export class WarmConnections {
  private readonly ready: Socket[] = [];
  private closed = false;

  /** An open socket, or undefined when none is left (the client then connects as usual). */
  take(): Socket | undefined {
    for (let s = this.ready.pop(); s; s = this.ready.pop()) {
      s.removeListener('error', ignore);
      if (!s.destroyed && s.readyState === 'open') return s;
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
 * Opens `count` connections to `url` through the open model's connector (http1.ts leanConnector: the
 * host policy at the socket, TLS, connect timeout), in parallel; resolves once all
 * are open or failed, or after `maxWaitMs` (the rest join as they open). A refused or failed
 * connection is left to the run, which reports its requests' errors as it would without warm-up.
 */
export async function openConnections(url: string, access: TargetAccess, count: number, timeoutMs: number, signal?: AbortSignal, maxWaitMs = WARM_WAIT_MS): Promise<WarmConnections> {
  const parsed = assertAllowedTarget(url, access);
  const connect = leanConnector(access, timeoutMs);
  const warm = new WarmConnections();
  const opts = connectOptions(parsed);
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

/** The connector's options for a target URL, as undici passes them (a bracketed IPv6 literal without its brackets). */
export function connectOptions(parsed: URL): ConnectOptions {
  const https = parsed.protocol === 'https:';
  const hostname = parsed.hostname.startsWith('[') && isIPv6(parsed.hostname.slice(1, -1)) ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host: parsed.host, hostname, protocol: parsed.protocol, port: parsed.port || (https ? '443' : '80'), servername: null } as unknown as ConnectOptions;
}
