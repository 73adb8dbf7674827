import type { Command } from 'commander';

export function registerFleetCommand(program: Command): void {
  program
    .command('fleet')
    .description('coming soon')
    .allowUnknownOption()
    .action(() => {
      process.stdout.write('actionurl fleet: coming soon\n');
    });
}
