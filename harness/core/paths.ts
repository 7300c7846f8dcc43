import { fileURLToPath } from 'node:url';

/**
 * Whether this code runs compiled (dist/harness/…/*.js, npm run build) rather than from the
 * TypeScript sources (tsx, vitest). Every module compiles alike, so one module's answer is all's.
 */
export const COMPILED = import.meta.url.endsWith('.js');

/**
 * The project root (where package.json, fixtures/ and node_modules/ are), with a trailing slash;
 * compiled, this module sits one level deeper, in dist/harness/core/.
 */
export const PROJECT_ROOT = fileURLToPath(new URL(COMPILED ? '../../../' : '../../', import.meta.url));

/**
 * How to start a harness module as a process of its own: `relative` (no extension) from `base`
 * (the caller's import.meta.url). Compiled, plain node on its .js; from the sources, node with
 * tsx's loader on its .ts.
 */
export function harnessEntry(relative: string, base: string): { file: string; args: string[] } {
  const file = fileURLToPath(new URL(`${relative}${COMPILED ? '.js' : '.ts'}`, base));
  return { file, args: COMPILED ? [file] : ['--import', 'tsx', file] };
}
