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
