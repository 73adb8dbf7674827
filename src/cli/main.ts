/**
 * The `actionurl` command line. Each command lives in its own file under ./commands and registers itself
 * on the program here, so that adding a command touches one line of this file.
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerExpandCommand } from './commands/expand.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerPhoneCommand } from './commands/phone.ts';
import { registerFleetCommand } from './commands/fleet.ts';

export function buildProgram(): Command {
  const program = new Command('actionurl')
    .description('Action URL for SIP desk phones: virtual phones, a receiver, dashboard, forwarding, provisioning')
    .version('0.1.0')
    .showHelpAfterError();
  registerServeCommand(program);
  registerPhoneCommand(program);
  registerFleetCommand(program);
  registerCatalogCommands(program);
  registerExpandCommand(program);
  registerConfigCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`actionurl: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
