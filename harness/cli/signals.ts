/**
 * SIGINT/SIGTERM abort the run instead of killing the process, so load stops, faults recover and
 * everything started is torn down before the CLI exits 130. A third signal gives up waiting.
 * Outside a run, the trap bin.mjs installs first exits 130 at once (it steps aside while a
 * handler from here is installed).
 */
export function abortOnSignals(onSignal: (signal: NodeJS.Signals, count: number) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals): void => {
    count++;
    onSignal(sig, count);
    controller.abort(new Error(`interrupted by ${sig}`));
    if (count >= 3) process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
