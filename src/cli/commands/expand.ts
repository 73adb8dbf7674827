import { Option, type Command } from 'commander';
import { canonicalVariableName } from '../../core/catalog.ts';
import { expand, lint, type ExpandMode } from '../../core/templates.ts';
import { UsageError } from '../errors.ts';
import { EXPAND_MODES } from '../options.ts';
import { print } from '../output.ts';

interface ExpandOptions {
  var: string[];
  mode: ExpandMode;
  incident?: string;
  lint: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--var name=value` pairs to a context keyed by canonical variable name (any vendor spelling accepted). */
export function parseVarOptions(pairs: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var expects name=value, got "${pair}"`);
    const name = pair.slice(0, eq).replace(/^\$/, '');
    const canonical = canonicalVariableName(name);
    if (!canonical) throw new UsageError(`unknown variable "${name}" (see: actionurl vars)`);
    context[canonical] = pair.slice(eq + 1);
  }
  return context;
}

export function registerExpandCommand(program: Command): void {
  program
    .command('expand')
    .description('show a URL template expanded as a phone would send it')
    .argument('<template>', 'the Action URL as typed into the phone, e.g. \'http://server/actionurl/registered?mac=$mac\'')
    .option('--var <name=value>', 'a variable value (repeatable); any vendor spelling of the name', collect, [])
    .addOption(new Option('--mode <mode>', 'phone: raw values as firmware sends them; safe: values percent-encoded').choices(EXPAND_MODES).default('phone'))
    .option('--incident <slug>', 'also warn about variables this incident never fills')
    .option('--no-lint', 'do not print lint warnings')
    .addHelpText('after', '\nTokens without a --var value stay literal, as phones leave them.\nExample:\n  actionurl expand \'http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&name=$display_remote\' --var mac=001565aabbcc --var \'display_remote=John Doe\'')
    .action(async (template: string, opts: ExpandOptions) => {
      const context = parseVarOptions(opts.var);
      if (opts.lint) {
        const result = lint(template, opts.incident);
        for (const p of [...result.errors, ...result.warnings]) {
          process.stderr.write(`${p.severity} at ${p.index}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}\n`);
        }
      }
      await print(expand(template, context, opts.mode));
    });
}
