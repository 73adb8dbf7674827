import type { Command } from 'commander';

export function registerExpandCommand(program: Command): void {
  program.command('expand').description('coming soon').allowUnknownOption().action(() => {});
}
