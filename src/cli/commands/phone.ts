import type { Command } from 'commander';

export function registerPhoneCommand(program: Command): void {
  program
    .command('phone')
    .description('coming soon')
    .allowUnknownOption()
    .action(() => {
      process.stdout.write('actionurl phone: coming soon\n');
    });
}
