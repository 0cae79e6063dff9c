import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from '../engine/usage-error.ts';
import { docsCommand } from './commands/docs-command.ts';
import { matrixCommand } from './commands/matrix-command.ts';
import { redactSecrets } from '../matrix/local/vendor-env.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the `dpone` program. Subcommands only parse flags and call library functions. */
export function buildProgram(): Command {
  const program = new Command('dpone')
    .description('test-and-certification harness for a data-loading engine')
    .version(version)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  for (const command of [matrixCommand(), docsCommand()]) {
    program.addCommand(command.exitOverride().configureOutput({ writeErr: () => undefined }));
  }
  return program;
}

/** Maps an error to its one-line message and exit code: 2 for usage and input errors, 1 otherwise. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CommanderError) {
    const message = error.message.replace(/^error: /, '');
    return { message: `usage: ${message}`, exitCode: error.exitCode === 0 ? 0 : 2 };
  }
  if (error instanceof UsageError) return { message: `usage: ${error.message}`, exitCode: 2 };
  return { message: `error: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return;
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`dpone: ${redactSecrets(message)}\n`);
    if (process.env.DPONE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${redactSecrets(error.stack ?? '')}\n`);
    process.exitCode = exitCode;
  }
}

await main(process.argv);
