#!/usr/bin/env node
// The `gameday` command: TypeScript sources run directly through tsx's loader.

// Signals are trapped before anything slow loads (tsx, then the command's modules take a second or
// more): until a run installs its own handler (harness/cli/signals.ts), nothing has been started,
// so SIGINT/SIGTERM exit 130 at once, as after a run's cleanup, instead of the default 130/143 kill.
const early = (signal) => {
  if (process.listenerCount(signal) === 1) process.exit(130);
};
process.on('SIGINT', early);
process.on('SIGTERM', early);

const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
