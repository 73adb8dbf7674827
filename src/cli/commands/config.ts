import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  program
    .command('config')
    .description('phone config files (coming soon)')
    .allowUnknownOption()
    .action(() => {
      process.stdout.write('actionurl config: coming soon\n');
    });
}
