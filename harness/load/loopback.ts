import { isLoopbackHost } from '../core/loopback.js';

export { isLoopbackHost };

/**
 * Load and faults go only to this machine. The check is literal on purpose: nothing is resolved,
 * so a name that happens to resolve to loopback today is still refused.
 */
export function assertLoopback(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`load target ${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:3000)`);
  }
  if (parsed.protocol !== 'http:') {
    throw new Error(`load target ${JSON.stringify(url)}: expected an http: URL, found ${parsed.protocol}`);
  }
  if (!isLoopbackHost(parsed.hostname)) {
    throw new Error(
      `load target ${JSON.stringify(url)} is not loopback: only 127.0.0.0/8, [::1] and localhost may receive load, found host ${parsed.hostname}`,
    );
  }
  return parsed;
}
