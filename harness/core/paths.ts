import { fileURLToPath } from 'node:url';

/** The project root (where package.json, fixtures/ and node_modules/ are), with a trailing slash. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
