/**
 * `actionurl command <mac> <command> [args]`: tells a phone what to do through a running receiver, and
 * follows the command until the phone's own Action URL confirms it (or it fails, with the reason).
 *   actionurl command 00:15:65:aa:bb:cc dial 2001 --server http://127.0.0.1:8080
 * Exit code: 0 confirmed (keys: accepted), 1 failed, 2 a mistake on the command line or an unusable answer.
 */
import { Option, type Command } from 'commander';
import { CONTROL_COMMANDS, isControlCommand, parseCommandRequest, parseKeys } from '../../core/control/index.ts';
import { normalizeServerUrl } from '../../core/ingest-url.ts';
import { normalizeMac } from '../../core/mac.ts';
import { UsageError } from '../errors.ts';
import { numberOption } from '../options.ts';
import { print } from '../output.ts';

interface CommandCliOptions {
  server?: string;
  adminToken?: string;
  wait: boolean;
  json?: boolean;
  timeout: string;
}

/** The request body from the words after the MAC (`dial 2001`, `keys OK F_HOLD`, `hangup`). */
export function requestFromWords(command: string, args: readonly string[]): Record<string, unknown> {
  if (!isControlCommand(command)) throw new UsageError(`unknown command "${command}"; expected one of ${CONTROL_COMMANDS.join(', ')}`);
  if (command === 'dial') {
    if (args.length !== 1) throw new UsageError('dial needs the number: actionurl command <mac> dial 2001');
    return { command, number: args[0] };
  }
  if (command === 'keys') {
    const keys = parseKeys(args.join(';'));
    if ('error' in keys) throw new UsageError(keys.error);
    return { command, keys: keys.keys };
  }
  if (args.length > 0) throw new UsageError(`${command} takes no arguments`);
  return { command };
}

async function call(url: string, token: string | undefined, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...(init.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new UsageError(`cannot reach the receiver at ${new URL(url).origin}: ${cause?.code ?? (err as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new UsageError(`the receiver answered ${res.status} with something that is not JSON: ${text.slice(0, 100)}`);
  }
}

export function registerCommandCommand(program: Command): void {
  program
    .command('command')
    .description(`tell a phone what to do through the receiver and wait for its Action URL to confirm it: ${CONTROL_COMMANDS.join(', ')}`)
    .argument('<mac>', 'the phone\'s MAC address')
    .argument('<command>', 'dial <number>, answer, hangup, hold, unhold, dnd_on, dnd_off, mute, reboot, keys <KEY>...')
    .argument('[args...]', 'the number to dial, or the keys to press')
    .addOption(new Option('--server <url>', 'the receiver\'s base URL, e.g. http://127.0.0.1:8080').env('ACTIONURL_SERVER'))
    .addOption(new Option('--admin-token <token>', 'the receiver\'s admin token').env('ACTIONURL_ADMIN_TOKEN'))
    .option('--no-wait', 'print the command id and return without waiting for the outcome')
    .option('--json', 'print the final command as JSON')
    .option('--timeout <ms>', 'stop waiting after this long (the receiver\'s own timeout decides the outcome)', '30000')
    .action(async (macText: string, command: string, args: string[], o: CommandCliOptions) => {
      const mac = normalizeMac(macText);
      if (!mac) throw new UsageError(`"${macText}" is not a MAC address (e.g. 00:15:65:AA:BB:CC)`);
      if (o.server === undefined) throw new UsageError('--server is required, e.g. --server http://127.0.0.1:8080');
      let server: string;
      try {
        server = normalizeServerUrl(o.server);
      } catch (err) {
        throw new UsageError(`--server: ${(err as Error).message}`);
      }
      const waitMs = numberOption(o.timeout, '--timeout', 100, 3_600_000, true);
      const body = requestFromWords(command, args);
      const checked = parseCommandRequest(body);
      if ('error' in checked) throw new UsageError(checked.error);

      const sent = await call(`${server}/api/v1/phones/${mac}/commands`, o.adminToken, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      if (sent.status !== 202) {
        process.stderr.write(`actionurl command: ${sent.body?.error ?? `the receiver answered ${sent.status}`}\n`);
        process.exitCode = sent.status === 400 ? 2 : 1;
        return;
      }
      if (!o.wait) return print(o.json ? JSON.stringify(sent.body) : `${sent.body.id} ${sent.body.status}`);
      const until = Date.now() + waitMs;
      let last = sent.body;
      let shown = '';
      const final = checked.command === 'keys' ? ['accepted', 'failed'] : ['confirmed', 'failed'];
      for (;;) {
        if (!o.json && last.status !== shown) {
          shown = last.status;
          if (!final.includes(last.status)) await print(last.status);
        }
        if (final.includes(last.status)) break;
        if (Date.now() > until) {
          process.stderr.write(`actionurl command: still ${last.status} after ${waitMs} ms (id ${last.id})\n`);
          process.exitCode = 1;
          return;
        }
        // The receiver answers as soon as the command is final (or after `wait` seconds, to show progress).
        const wait = o.json ? Math.min(20, Math.max(1, Math.ceil((until - Date.now()) / 1000))) : 1;
        last = (await call(`${server}/api/v1/commands/${sent.body.id}?wait=${wait}`, o.adminToken)).body;
      }
      if (o.json) await print(JSON.stringify(last));
      else if (last.status === 'failed') process.stderr.write(`failed: ${last.reason}\n`);
      else if (last.confirmed_by) await print(`confirmed by ${last.confirmed_by.incident} (event ${last.confirmed_by.event_id})`);
      else await print(last.status);
      if (last.status === 'failed') process.exitCode = 1;
    });
}
