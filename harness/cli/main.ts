import { Command, CommanderError } from 'commander';
import { ExitCode } from '../core/exit-codes.js';
import { InputError } from '../core/errors.js';
import { consoleOutput } from './output.js';
import { runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    the spec held
  1    the spec failed (or the run was aborted by its guard)
  2    invalid input or usage; nothing was started
  3    the harness or its environment failed
  130  interrupted (after cleanup)`;

async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.Passed;
  const program = new Command('gameday')
    .description('Load tests and chaos Game Days: deploy, load, inject faults, judge recovery against the spec.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('run')
    .description('run a Game Day scenario and write its reports')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('-o, --out <dir>', 'output directory', 'reports/latest')
    .option('-q, --quiet', 'print only errors and the verdict line')
    .action(async (file: string, o: { out: string; quiet?: boolean }) => {
      code = await runCommand(file, { out: o.out, quiet: o.quiet, argv }, consoleOutput({ quiet: o.quiet }));
    });

  program
    .command('validate')
    .description('validate scenario files; starts nothing')
    .argument('<scenarios...>', 'scenario files (YAML)')
    .action(async (files: string[]) => {
      code = await validateCommand(files, consoleOutput());
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.Passed : ExitCode.InvalidInput;
    }
    if (err instanceof InputError) {
      process.stderr.write(`${err.message}\n`);
      return ExitCode.InvalidInput;
    }
    process.stderr.write(`gameday: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.HarnessError;
  }
}

// The only place gameday exits the process.
process.exit(await main(process.argv.slice(2)));
