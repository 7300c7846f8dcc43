import type { TransportErrorKind } from './types.js';

/**
 * One mapping from "why the request got no HTTP response" to a kind, shared by both models.
 * A peer that closes the connection cleanly before answering (or mid-response) is 'closed'
 * (undici: UND_ERR_SOCKET "other side closed"); a TCP RST is 'reset'.
 */
const BY_CODE: Readonly<Record<string, TransportErrorKind>> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'closed',
  ETIMEDOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
};

/**
 * A TLS handshake that failed: the server's certificate not trusted or not for this name
 * (OpenSSL's X509 verify codes, Node's ERR_TLS_*), or an OpenSSL protocol error or alert
 * (ERR_SSL_*: a refused client certificate, no common protocol version or cipher).
 */
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/;

export function kindOfCode(code: string | undefined): TransportErrorKind {
  if (code === undefined) return 'other';
  return BY_CODE[code] ?? (TLS_CODE.test(code) ? 'tls' : 'other');
}

/** The error code of a socket or undici error, looking through AggregateError (happy eyeballs). */
export function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  if ((err as { name?: unknown }).name === 'TimeoutError') return 'ETIMEDOUT';
  return undefined;
}

export function kindOfError(err: unknown): TransportErrorKind {
  return kindOfCode(errorCode(err));
}
