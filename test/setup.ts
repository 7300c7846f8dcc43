import { afterAll } from 'vitest';
import { removePrivateTmps } from './helpers/leftovers.js';

// Whatever a test file's assertions did, the temp directories it made for its runs go with it.
afterAll(() => removePrivateTmps());
