import { isIP } from 'node:net';

/**
 * Load and fault traffic only ever goes to loopback. A literal check: nothing is resolved, so a
 * name that happens to resolve to loopback is still refused (only "localhost" is accepted).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The canonical form of a host as the WHATWG URL parser writes `URL.hostname` (lowercase, IPv4
 * in dotted decimal, IPv6 compressed in brackets, IDN in punycode), or undefined when `text` is
 * not a bare host: a scheme, port, path, user or wildcard is refused rather than guessed at.
 */
export function canonicalHost(text: string): string | undefined {
  const raw = text.trim();
  if (raw === '' || /[\s/@*?#\\%]/.test(raw)) return undefined;
  const bracketed = isIP(raw) === 6 ? `[${raw}]` : raw;
  if (!bracketed.startsWith('[') && bracketed.includes(':')) return undefined;
  try {
    const url = new URL(`http://${bracketed}/`);
    return url.port === '' && url.hostname !== '' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host policy for every request the harness sends: loopback always; any other host only
 * when it is listed in `allowHosts` (canonical hosts, see canonicalHost), compared exactly after
 * canonicalisation (case-insensitive; no wildcards, no suffix match, nothing resolved).
 */
export function isHostAllowed(hostname: string, allowHosts: readonly string[]): boolean {
  if (isLoopbackHost(hostname)) return true;
  const host = canonicalHost(hostname);
  return host !== undefined && allowHosts.includes(host);
}
