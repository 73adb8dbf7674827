/**
 * The `actionurl` command line. Each command lives in its own file under ./commands and registers itself
 * on the program here, so that adding a command touches one line of this file.
 *
 * Every mistake on the command line is answered with one line on stderr, `error: …` (with commander's
 * "Did you mean" on the same line), and exit code 2, never the whole help: the line says what to change.
 */
import { Command, CommanderError } from 'commander';
import { TEMPFAIL_EXIT_CODE, TemporaryError, UsageError } from './errors.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerExpandCommand } from './commands/expand.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerPhoneCommand } from './commands/phone.ts';
import { registerFleetCommand } from './commands/fleet.ts';
import { registerCommandCommand } from './commands/command.ts';
import { registerBackupCommand } from './commands/backup.ts';
import { packageVersion } from '../core/version.ts';

/** Exit code of every usage mistake (wrong flag, bad value, unreadable file the user named). */
export const USAGE_EXIT_CODE = 2;

/** Commander's "error: …\n(Did you mean --port?)\n" as one line. */
export function oneLineError(text: string): string {
  return `${text.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`;
}

/** The same settings on every command: commander applies them to commands added after they are set. */
function configure(command: Command): Command {
  return command
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (text, write) => write(oneLineError(text)) })
    .exitOverride();
}

export function buildProgram(): Command {
  const program = configure(new Command('actionurl'))
    .description('Action URL for SIP desk phones: virtual phones, a receiver, dashboard, forwarding, provisioning')
    .version(packageVersion());
  registerServeCommand(program);
  registerPhoneCommand(program);
  registerFleetCommand(program);
  registerCommandCommand(program);
  registerCatalogCommands(program);
  registerExpandCommand(program);
  registerConfigCommands(program);
  registerBackupCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander refuses is a usage mistake.
      process.exitCode = err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(oneLineError(`error: ${err.message}`));
      process.exitCode = err instanceof TemporaryError ? TEMPFAIL_EXIT_CODE : USAGE_EXIT_CODE;
      return;
    }
    throw err;
  }
}
