import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('coming soon')
    .allowUnknownOption()
    .action(() => {
      process.stdout.write('actionurl serve: coming soon\n');
    });
}
