/**
 * Mistakes on the command line, made through the real bin: each is answered with exactly one line on stderr
 * (commander's "Did you mean" on the same line), nothing on stdout, and exit code 2 — never the whole help
 * and never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { Command } from 'commander';
import { registerServeCommand } from '../../src/cli/commands/serve.ts';
import { runCli } from './run-cli.ts';

/** The options `serve` would start with, for this environment and these arguments (nothing is started). */
function parseServe(env: Record<string, string>, args: string[] = []): { open?: boolean } {
  const program = new Command().exitOverride();
  registerServeCommand(program);
  let seen: { open?: boolean } = {};
  program.commands.find((c) => c.name() === 'serve')!.action((opts: { open?: boolean }) => {
    seen = opts;
  });
  const saved = process.env.ACTIONURL_OPEN;
  delete process.env.ACTIONURL_OPEN;
  Object.assign(process.env, env);
  try {
    program.parse(['serve', '--db', ':memory:', ...args], { from: 'user' });
  } finally {
    if (saved === undefined) delete process.env.ACTIONURL_OPEN;
    else process.env.ACTIONURL_OPEN = saved;
  }
  return seen;
}

const VENDORS = 'yealink, akuvox, fanvil, snom, grandstream';
const LEVELS = 'fatal, error, warn, info, debug, trace, silent';

/** Each mistake and the one line the user sees, written out by hand from what a user should read. */
const MISTAKES: [string[], string][] = [
  [['serve', '--prot', '8080'], 'error: unknown option \'--prot\' (Did you mean --port?)'],
  [['serve', '--db', ':memory:', '--log-level', 'loud'], `error: option '--log-level <level>' argument 'loud' is invalid. Allowed choices are ${LEVELS}.`],
  [['serve', '--port', '80x'], 'error: option \'--port <port>\' argument \'80x\' is invalid. Expected a whole number from 0 to 65535.'],
  [['serve', '--max-stream-clients', '0'], 'error: option \'--max-stream-clients <n>\' argument \'0\' is invalid. Expected a whole number from 1 to 100000.'],
  [['serve', '--stream-memory', '0'], 'error: option \'--stream-memory <MiB>\' argument \'0\' is invalid. Expected a whole number from 1 to 1048576.'],
  [['serve', '--max-connections-per-address', '-1'], 'error: option \'--max-connections-per-address <n>\' argument \'-1\' is invalid. Expected a whole number from 0 to 10000000.'],
  [['servee'], 'error: unknown command \'servee\' (Did you mean serve?)'],
  [['phone', '--mode', 'raw'], 'error: option \'--mode <mode>\' argument \'raw\' is invalid. Allowed choices are phone, safe.'],
  [['phone', '--vendor', 'nokia'], `error: option '--vendor <vendor>' argument 'nokia' is invalid. Expected one of ${VENDORS}.`],
  [['phone', '--config', 'a.cfg', '--target', 'http://127.0.0.1:9'], 'error: option \'--target <url>\' cannot be used with option \'--config <file>\''],
  [['phone', '--retries', '11'], 'error: option \'--retries <n>\' argument \'11\' is invalid. Expected a whole number from 0 to 10.'],
  [['fleet', '--phones', 'ten'], 'error: option \'--phones <n>\' argument \'ten\' is invalid. Expected a whole number from 1 to 1000000.'],
  [['fleet', '--target', 'http://127.0.0.1:9', '--durration', '5'], 'error: unknown option \'--durration\' (Did you mean --duration?)'],
  [['expand', 'http://s/', '--mdoe', 'safe'], 'error: unknown option \'--mdoe\' (Did you mean --mode?)'],
  [['expand'], 'error: missing required argument \'template\''],
  [['config', 'generate', '--vendor', 'cisco', '--server', 'http://s'], `error: option '--vendor <vendor>' argument 'cisco' is invalid. Expected one of ${VENDORS}.`],
  [['config', 'generate', '--vendor', 'snom', '--server', 'http://s', '--token', 'a', '--token-secret', 'b'],
    'error: option \'--token-secret <secret>\' cannot be used with option \'--token <token>\''],
  [['config', 'genrate'], 'error: unknown command \'genrate\' (Did you mean generate?)'],
  [['config', 'check', 'missing.cfg', '--vendor', 'snom'], 'error: cannot read config file missing.cfg: ENOENT'],
  [['events', '--jsn'], 'error: unknown option \'--jsn\' (Did you mean --json?)'],
  [['vars', 'extra'], 'error: too many arguments for \'vars\'. Expected 0 arguments but got 1.'],
];

test('every command-line mistake is one line and exit code 2', { timeout: 300_000 }, () => {
  for (const [args, line] of MISTAKES) {
    const r = runCli(args);
    assert.equal(r.stderr, `${line}\n`, args.join(' '));
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('a bad value from an environment variable is one line naming the variable, exit code 2', { timeout: 30_000 }, () => {
  const r = runCli(['serve', '--db', ':memory:'], { env: { ACTIONURL_LOG_LEVEL: 'loud' } });
  assert.equal(r.stderr, `error: option '--log-level <level>' value 'loud' from env 'ACTIONURL_LOG_LEVEL' is invalid. Allowed choices are ${LEVELS}.\n`);
  assert.equal(r.status, 2);
});

test('ACTIONURL_OPEN says on or off: "false" keeps the dashboard closed, a typo is refused', { timeout: 30_000 }, () => {
  const typo = runCli(['serve', '--db', ':memory:'], { env: { ACTIONURL_OPEN: 'ture' } });
  assert.equal(typo.stderr, "error: option '--open [on|off]' value 'ture' from env 'ACTIONURL_OPEN' is invalid. Expected on or off (also true/false, yes/no, 1/0).\n");
  assert.equal(typo.status, 2);
  assert.equal(parseServe({ ACTIONURL_OPEN: 'false' }).open, false);
  assert.equal(parseServe({ ACTIONURL_OPEN: 'off' }).open, false);
  assert.equal(parseServe({ ACTIONURL_OPEN: 'yes' }).open, true);
  assert.equal(parseServe({}, ['--open']).open, true);
  assert.equal(parseServe({}, ['--open', 'off']).open, false);
  assert.equal(parseServe({}).open, undefined);
});

test('--help and --version still print and exit 0', { timeout: 30_000 }, () => {
  const help = runCli(['serve', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--log-level <level>/);
  const version = runCli(['--version']);
  assert.equal(version.status, 0);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(version.stdout, `${pkg.version}\n`);
});

test('serve with a database a newer actionurl wrote, or a file that is no database: one line, exit 2', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-usage-'));
  try {
    const newer = join(dir, 'newer.sqlite');
    const store = new SqliteStore(newer, { worker: false });
    await store.close();
    const db = new Database(newer);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'from the future', Date.now());
    db.close();
    const r = runCli(['serve', '--port', '0', '--db', newer]);
    assert.match(r.stderr, /^error: --db: the database has schema version 999, newer than this actionurl knows \(\d+\); upgrade actionurl, or use another database file\n$/);
    assert.equal(r.status, 2);

    const notDb = join(dir, 'notes.txt');
    writeFileSync(notDb, 'shopping list: milk, eggs, and a much longer line so SQLite sees a full header page\n'.repeat(20));
    const r2 = runCli(['serve', '--port', '0', '--db', notDb]);
    assert.equal(r2.stderr, `error: --db ${notDb} is not a SQLite database (file is not a database); point --db at the receiver's database or at a new file name\n`);
    assert.equal(r2.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad --control-networks or --control-from-source: one line, exit 2, before anything listens', { timeout: 60_000 }, () => {
  const r = runCli(['serve', '--port', '0', '--db', ':memory:', '--control-networks', '10.0.0.0/8,192.168.1.0/40']);
  assert.equal(r.stderr, 'error: --control-networks: "192.168.1.0/40": prefix length must be 0..32\n');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  const r2 = runCli(['serve', '--port', '0', '--db', ':memory:'], { env: { ACTIONURL_CONTROL_FROM_SOURCE: 'the lan' } });
  assert.match(r2.stderr, /^error: --control-from-source: "the lan" is not an address or CIDR range/);
  assert.equal(r2.status, 2);
});
