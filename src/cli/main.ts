/**
 * The `actionurl` command line. Each command lives in its own file under ./commands and registers itself
 * on the program here, so that adding a command touches one line of this file. A command's module is loaded
 * only when that command runs: `actionurl events` does not load the receiver (its store drivers, logger,
 * HTTP stack), which would take several times Node's own start (bench/cli-start.ts). The overall help, an
 * unknown command (for "Did you mean") and `help <command>` load them all.
 *
 * Every mistake on the command line is answered with one line on stderr, `error: …` (with commander's
 * "Did you mean" on the same line), and exit code 2, never the whole help: the line says what to change.
 */
import { Command, CommanderError } from 'commander';
import { TEMPFAIL_EXIT_CODE, TemporaryError, UsageError } from './errors.ts';
import { packageVersion } from '../core/version.ts';

type Register = (program: Command) => void;

/** The commands in the order the help lists them: the names each module registers, and how to load it. */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['serve'], load: async () => (await import('./commands/serve.ts')).registerServeCommand },
  { names: ['phone'], load: async () => (await import('./commands/phone.ts')).registerPhoneCommand },
  { names: ['fleet'], load: async () => (await import('./commands/fleet.ts')).registerFleetCommand },
  { names: ['command'], load: async () => (await import('./commands/command.ts')).registerCommandCommand },
  { names: ['events', 'vars'], load: async () => (await import('./commands/catalog.ts')).registerCatalogCommands },
  { names: ['expand'], load: async () => (await import('./commands/expand.ts')).registerExpandCommand },
  { names: ['config'], load: async () => (await import('./commands/config.ts')).registerConfigCommands },
  { names: ['backup'], load: async () => (await import('./commands/backup.ts')).registerBackupCommand },
];

/**
 * The command an argument list runs: its first word that is not an option (the program's own options,
 * --help and --version, take no value). Undefined for none or a name no command has.
 */
function commandOf(argv: readonly string[]): (typeof COMMANDS)[number] | undefined {
  const word = argv.slice(2).find((a) => !a.startsWith('-'));
  return word === undefined ? undefined : COMMANDS.find((c) => c.names.includes(word));
}

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

/** The program with every command, or (given the arguments) with only the command they run when it has one. */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = configure(new Command('actionurl'))
    .description('Action URL for SIP desk phones: virtual phones, a receiver, dashboard, forwarding, provisioning')
    .version(packageVersion());
  const one = argv && commandOf(argv);
  const registers = await Promise.all((one ? [one] : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
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
