import type { Command } from 'commander';
import { INCIDENTS, VARIABLES, VENDORS, variablesFilledBy } from '../../core/catalog.ts';
import { print, table } from '../output.ts';

export function registerCatalogCommands(program: Command): void {
  program
    .command('events')
    .description('list the 34 Action URL incidents with each vendor\'s config key')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      if (opts.json) {
        const out = INCIDENTS.map((i) => ({
          ...i,
          variables: variablesFilledBy(i).map((v) => v.name),
        }));
        await print(JSON.stringify(out, null, 2));
        return;
      }
      // One column per vendor: the config key that sets the incident's URL on that vendor's phones.
      const rows = [['#', 'slug', 'name', ...VENDORS]];
      for (const i of INCIDENTS) {
        rows.push([String(i.n), i.slug, i.name, ...VENDORS.map((v) => i.keys[v] ?? '-')]);
      }
      await print(table(rows));
    });

  program
    .command('vars')
    .description('list the Action URL variables and the other spellings vendors use for them')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      if (opts.json) {
        await print(JSON.stringify(VARIABLES, null, 2));
        return;
      }
      const rows = [['variable', 'scope', 'description', 'also spelled']];
      for (const v of VARIABLES) {
        const aliases = v.aliases.filter((a) => a.spelling !== v.name).map((a) => `$${a.spelling} (${a.vendors.join(', ')})`);
        rows.push([`$${v.name}`, v.scope, v.description, aliases.join(' ') || '-']);
      }
      await print(table(rows));
    });
}
