import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TransportErrorKind } from './types.js';
import { kindOfCode } from './transport-errors.js';

/**
 * Repairs two defects of autocannon 9.0.0's httpClient, on one client instance, through its
 * `setupClient` hook (called in the Client constructor before the first `_connect`).
 *
 * When a connection errors or ends, autocannon calls `_connect()` again but leaves the in-flight
 * request in `pipelinedRequests`: (a) a request lost on a closed connection is never reported, and
 * (b) the next response is matched to that stale entry, so its latency is measured from the lost
 * request's start. The repair shadows `_connect` to report every pending request as a transport
 * error, clear the queue and reset the HTTP parser before reconnecting. It reads private
 * internals, so it refuses any other autocannon version: an upgrade must be re-checked by hand.
 */
export const PINNED_AUTOCANNON_VERSION = '9.0.0';

/** Pause before re-opening a connection that failed without any response (outages must not spin a core). */
export const RECONNECT_DELAY_MS = 5;

export function installedAutocannonVersion(): string {
  return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
}

export function assertAutocannonPinned(version = installedAutocannonVersion()): void {
  if (version !== PINNED_AUTOCANNON_VERSION) {
    throw new Error(
      `autocannon ${version} is installed but harness/load/autocannon-repair.ts patches ${PINNED_AUTOCANNON_VERSION} internals ` +
        '(httpClient _connect/_doRequest/_destroyConnection, pipelinedRequests, parser): re-read them and update the pin',
    );
  }
}

/** The private parts of autocannon's httpClient that the repair touches. */
export interface AutocannonClient extends EventEmitter {
  destroyed: boolean;
  timeout: number;
  opts: { pipelining: number };
  conn: Socket | undefined;
  parser: { type: string; initialize(type: string): void };
  pipelinedRequests: { toArray(): Array<{ startTime: [number, number] }>; clear(): void };
  requestIterator: { currentRequest: Record<PropertyKey, unknown>; rebuildRequest(): unknown };
  _connect(): void;
  _doRequest(): void;
  _destroyConnection(): void;
}

export interface RepairHooks {
  /** A request that got no response: its connection was lost or it timed out. */
  lost(client: AutocannonClient, latencyMs: number, kind: TransportErrorKind): void;
  /** A request was written. */
  sent(client: AutocannonClient): void;
  /** True once the run is draining: no new request is sent and no lost connection re-opened. */
  stopping(): boolean;
  /** The client has nothing in flight and will send nothing more (only while stopping). */
  idle(client: AutocannonClient): void;
}

export interface ClientRepair {
  /** Cancels a delayed reconnect; true if one was pending (the client is then idle). */
  cancelReconnect(): boolean;
  /** Reports whatever is still in flight as `kind` (used when the drain deadline passes). */
  failPending(kind: TransportErrorKind): void;
}

export function repairClient(client: AutocannonClient, hooks: RepairHooks): ClientRepair {
  assertInternals(client);
  return new ConnectionRepair(client, hooks);
}

class ConnectionRepair implements ClientRepair {
  private lastErrorCode: string | undefined;
  private responsesOnConn = 0;
  private closeAnnounced = false;
  private connectedOnce = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly connect: () => void;
  private readonly doRequest: () => void;
  private readonly destroyConnection: () => void;

  constructor(
    private readonly client: AutocannonClient,
    private readonly hooks: RepairHooks,
  ) {
    this.connect = client._connect.bind(client);
    this.doRequest = client._doRequest.bind(client);
    this.destroyConnection = client._destroyConnection.bind(client);
    client._connect = () => this.reconnect();
    client._doRequest = () => this.request();
    client._destroyConnection = () => this.destroyed();
    client.on('connError', (err: { code?: string }) => (this.lastErrorCode = err.code ?? 'unknown'));
    client.on('headers', (info: { shouldKeepAlive?: boolean }) => (this.closeAnnounced = info.shouldKeepAlive === false));
    client.on('response', () => this.responsesOnConn++);
  }

  cancelReconnect(): boolean {
    if (this.reconnectTimer === undefined) return false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    return true;
  }

  failPending(kind: TransportErrorKind): void {
    const queue = this.client.pipelinedRequests;
    for (const entry of queue.toArray()) {
      const [s, ns] = process.hrtime(entry.startTime);
      this.hooks.lost(this.client, s * 1e3 + ns / 1e6, kind);
    }
    queue.clear();
  }

  /** Shadows `_connect`: called on start, on socket 'error'/'end', after a timeout. */
  private reconnect(): void {
    const { client } = this;
    const kind = this.lastErrorCode === undefined ? 'closed' : kindOfCode(this.lastErrorCode);
    this.failPending(kind);
    this.lastErrorCode = undefined;
    this.closeAnnounced = false;
    detach(client.conn);
    client.parser.initialize(client.parser.type); // keeps the kOn* handlers: they are own properties
    const hadResponse = this.responsesOnConn > 0;
    this.responsesOnConn = 0;
    if (this.reconnectTimer !== undefined) return;
    if (client.destroyed || this.hooks.stopping()) return this.hooks.idle(client);
    if (hadResponse || !this.connectedOnce) return this.connectNow();
    this.reconnectTimer = setTimeout(() => this.connectLater(), RECONNECT_DELAY_MS);
  }

  private connectLater(): void {
    this.reconnectTimer = undefined;
    if (this.client.destroyed || this.hooks.stopping()) return this.hooks.idle(this.client);
    this.connectNow();
  }

  private connectNow(): void {
    this.connectedOnce = true;
    this.connect();
  }

  /** Shadows `_doRequest`: honours `Connection: close` and stops sending while draining. */
  private request(): void {
    if (this.hooks.stopping()) return this.hooks.idle(this.client);
    if (this.closeAnnounced) return this.reconnect();
    this.doRequest();
    this.hooks.sent(this.client);
  }

  /**
   * Shadows `_destroyConnection`. Apart from `destroy()`, its only caller is autocannon's timeout
   * handler (reconnectRate, the other one, is never set), which clears the queue itself: report
   * the timed-out request first.
   */
  private destroyed(): void {
    if (this.client.destroyed) this.cancelReconnect();
    else this.failPending('timeout');
    this.destroyConnection();
  }
}

/** Stops an old socket from feeding the parser or triggering another reconnect. */
function detach(conn: Socket | undefined): void {
  if (!conn) return;
  conn.removeAllListeners('data');
  conn.removeAllListeners('end');
  conn.removeAllListeners('error');
  conn.on('error', () => {});
  conn.destroy();
}

function assertInternals(client: AutocannonClient): void {
  const ok =
    typeof client._connect === 'function' &&
    typeof client._doRequest === 'function' &&
    typeof client._destroyConnection === 'function' &&
    typeof client.pipelinedRequests?.toArray === 'function' &&
    typeof client.parser?.initialize === 'function' &&
    client.opts?.pipelining === 1;
  if (!ok) throw new Error('autocannon client internals differ from the pinned version (or pipelining is not 1): repair refused');
}
