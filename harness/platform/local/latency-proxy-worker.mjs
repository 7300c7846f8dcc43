// The latency proxy's worker thread: TypeScript sources load through tsx's loader in this thread
// too (as in harness/cli/bin.mjs), whether the harness runs from the CLI, `node --import tsx` or vitest.
import { register } from 'tsx/esm/api';

register();
await import('./latency-proxy-worker.ts');
