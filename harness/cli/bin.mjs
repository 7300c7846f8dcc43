#!/usr/bin/env node
// The `gameday` command: the compiled JavaScript under dist/ (npm run build; npm ci builds it) when
// its build stamp matches the TypeScript sources, else the sources themselves through tsx's loader,
// so an edit runs at once, compiled at every start (a second or more) until the next build.

// Signals are trapped before anything slow loads (tsx, then the command's modules): until a run
// installs its own handler (harness/cli/signals.ts), nothing has been started, so SIGINT/SIGTERM
// exit 130 at once, as after a run's cleanup, instead of the default 130/143 kill.
const early = (signal) => {
  if (process.listenerCount(signal) === 1) process.exit(130);
};
process.on('SIGINT', early);
process.on('SIGTERM', early);

const { fileURLToPath, pathToFileURL } = await import('node:url');
const { compiledEntry } = await import('./build-state.mjs');

// GAMEDAY_FROM_SOURCE=1 runs the sources even when the build is fresh.
const compiled = process.env['GAMEDAY_FROM_SOURCE'] === '1' ? undefined : compiledEntry(fileURLToPath(new URL('../../', import.meta.url)));
if (compiled) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
