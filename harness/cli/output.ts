/** Where the CLI writes: human lines to stdout/stderr, silenced by --quiet. */
export interface Output {
  info(line: string): void;
  error(line: string): void;
}

export function consoleOutput(opts: { quiet?: boolean } = {}): Output {
  return {
    info: (line) => {
      if (!opts.quiet) process.stdout.write(`${line}\n`);
    },
    error: (line) => process.stderr.write(`${line}\n`),
  };
}
