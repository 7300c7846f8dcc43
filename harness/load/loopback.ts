import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import type { buildConnector } from 'undici';
import { isHostAllowed, isLoopbackHost } from '../core/loopback.js';

export { isHostAllowed, isLoopbackHost };

/**
 * Key material: out of JSON, String() and util.inspect, so it cannot reach a log, a report or
 * an error message by accident. Only `reveal()` hands it to the TLS stack.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** TLS for an https target, read and validated with the scenario (PEM text, never file names). */
export interface TargetTls {
  /** Trusted CA certificates; replaces the system CAs when given. */
  ca?: string;
  /** Client certificate chain, with `key`. */
  cert?: string;
  key?: Secret;
  /** The name the server certificate is checked against (and sent as SNI), instead of the URL's host. */
  serverName?: string;
}

/** What the harness may connect to, and how: the policy every driver applies at its own sockets. */
export interface TargetAccess {
  /** Canonical non-loopback hosts allowed besides loopback (spec.target.allowHosts and --allow-host). */
  allowHosts?: readonly string[];
  tls?: TargetTls;
}

/** A refused host or scheme: raised before a socket exists. */
export class HostNotAllowedError extends Error {
  readonly code = 'GAMEDAY_HOST_NOT_ALLOWED';
}

export function notAllowed(what: string, host: string): HostNotAllowedError {
  return new HostNotAllowedError(
    `${what} is not loopback and not an allowed host: only 127.0.0.0/8, [::1], localhost, or a host listed in spec.target.allowHosts / --allow-host may receive traffic, found host ${host}`,
  );
}

/**
 * Load goes only to loopback or to an explicitly allowed host. The check is literal on purpose:
 * nothing is resolved, so a name that happens to resolve to loopback today is still refused
 * unless it is listed.
 */
export function assertAllowedTarget(url: string, access: TargetAccess = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`load target ${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:3000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`load target ${JSON.stringify(url)}: expected an http: or https: URL, found ${parsed.protocol}`);
  }
  if (!isHostAllowed(parsed.hostname, access.allowHosts ?? [])) throw notAllowed(`load target ${JSON.stringify(url)}`, parsed.hostname);
  return parsed;
}

/** The loopback-only form, for callers that never take a policy (a local platform's own URLs). */
export function assertLoopback(url: string): URL {
  return assertAllowedTarget(url, {});
}

type Connector = buildConnector.connector;

/**
 * An undici connector that applies the host policy to every socket it opens (so even a request
 * to another origin through this dispatcher could not reach a host that was not allowed), with
 * the target's TLS material; `timeoutMs` is the connect timeout.
 */
export function guardedConnector(access: TargetAccess, timeoutMs: number): Connector {
  const tls = access.tls;
  // undici loads here, not with this module: the scenario reader (`gameday validate`) needs only
  // the host policy and Secret above, and undici takes about 0.1 s to load.
  const { buildConnector } = createRequire(import.meta.url)('undici') as typeof import('undici');
  const connect = buildConnector({
    timeout: timeoutMs,
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls?.key !== undefined ? { key: tls.key.reveal() } : {}),
    ...(tls?.serverName !== undefined ? { servername: tls.serverName } : {}),
  });
  const allowHosts = access.allowHosts ?? [];
  return (opts, callback) => {
    if (!isHostAllowed(opts.hostname, allowHosts)) {
      callback(notAllowed('connection', opts.hostname), null);
      return;
    }
    connect(opts, callback);
  };
}
