/**
 * The systemd units in deploy/systemd: accepted by systemd-analyze (when it is installed; in CI it must be),
 * hardened, and starting the receiver the way the unit says.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BIN, spawnServe } from '../server/helpers/child.ts';
import { runCli } from '../cli/run-cli.ts';
import { unitSettings } from './unit-file.ts';

const DIR = resolve(import.meta.dirname, '../../deploy/systemd');
const UNITS = ['actionurl.service', 'actionurl-backup.service', 'actionurl-backup.timer'];
const INSTALLED_BIN = '/usr/local/bin/actionurl';

const analyze = spawnSync('systemd-analyze', ['--version']).error ? '' : 'systemd-analyze';
// Outside CI a machine without systemd skips the check; in CI a missing systemd-analyze fails it.
const skipAnalyze = analyze === '' && !process.env.CI ? 'systemd-analyze is not installed' : false;

const read = (name: string) => readFileSync(join(DIR, name), 'utf8');

/** The units in a temporary folder, ExecStart pointing at this package's command instead of the installed one. */
function unitsHere(edit: (text: string) => string = (t) => t): { dir: string; paths: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-units-'));
  const paths = UNITS.map((name) => {
    const path = join(dir, name);
    writeFileSync(path, edit(read(name).replaceAll(INSTALLED_BIN, BIN)));
    return path;
  });
  return { dir, paths };
}

function verify(paths: string[]) {
  assert.notEqual(analyze, '', 'systemd-analyze is needed for this check (apt-get install systemd)');
  return spawnSync(analyze, ['verify', ...paths], { encoding: 'utf8', timeout: 60_000 });
}

describe('systemd units', { timeout: 120_000 }, () => {
  test('systemd-analyze verify accepts every unit without a warning', { skip: skipAnalyze, timeout: 60_000 }, () => {
    const { dir, paths } = unitsHere();
    try {
      const r = verify(paths);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the check notices a mistyped setting and a command that is not there', { skip: skipAnalyze, timeout: 60_000 }, () => {
    // So that the check above is not passing for want of looking.
    const { dir, paths } = unitsHere((t) => t.replace('ProtectHome=yes', 'ProtectHome=yse'));
    try {
      assert.match(verify(paths).stderr, /protect home value/i);
      writeFileSync(paths[0], read(UNITS[0]));
      assert.match(verify(paths).stderr, new RegExp(`${INSTALLED_BIN} is not executable`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('systemd-analyze security rates the receiver\'s unit OK (exposure 2.0 or lower)', { skip: skipAnalyze, timeout: 60_000 }, () => {
    const { dir, paths } = unitsHere();
    try {
      assert.notEqual(analyze, '');
      const r = spawnSync(analyze, ['security', '--offline=true', paths[0]], { encoding: 'utf8', timeout: 60_000 });
      const m = /Overall exposure level for actionurl\.service: (\d+\.\d+)/.exec(r.stdout);
      assert.ok(m, r.stdout + r.stderr);
      assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the service runs `actionurl serve` as its own user with the database in its state folder, hardened', { timeout: 60_000 }, () => {
    const unit = unitSettings(read('actionurl.service'));
    const one = (key: string) => {
      const values = unit.get(key);
      assert.ok(values, `${key} is set`);
      return values[values.length - 1];
    };
    const user = /^u\s+(\S+)\s/m.exec(read('actionurl.sysusers'))?.[1];
    assert.equal(one('User'), user, 'the user the sysusers file creates');
    assert.equal(one('StateDirectory'), 'actionurl');
    assert.equal(one('WorkingDirectory'), '/var/lib/actionurl');
    const env = new Map(unit.get('Environment')!.map((e) => e.split('=', 2) as [string, string]));
    assert.equal(dirname(env.get('ACTIONURL_DB')!), '/var/lib/actionurl', 'the database lives in the state folder');
    assert.equal(one('ExecStart'), `${INSTALLED_BIN} serve`);
    assert.equal(one('EnvironmentFile'), '-/etc/actionurl/actionurl.env');
    assert.equal(one('Restart'), 'on-failure');
    // A mistake in the settings (exit 2) is not restarted; PostgreSQL not reachable yet (exit 75) is.
    assert.equal(one('RestartPreventExitStatus'), '2');
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      CapabilityBoundingSet: '', RestrictNamespaces: 'yes', RestrictSUIDSGID: 'yes', LockPersonality: 'yes',
    })) assert.equal(one(key), value, key);
    assert.deepEqual(one('RestrictAddressFamilies').split(' ').sort(), ['AF_INET', 'AF_INET6', 'AF_UNIX']);
    // The backup job reads the same settings, so it copies the database the receiver writes.
    const backup = unitSettings(read('actionurl-backup.service'));
    assert.deepEqual(backup.get('EnvironmentFile'), unit.get('EnvironmentFile'));
    assert.ok(backup.get('Environment')!.includes(`ACTIONURL_DB=${env.get('ACTIONURL_DB')}`));
    assert.equal(backup.get('User')?.[0], user);
    assert.match(backup.get('ExecStart')![0], new RegExp(`${INSTALLED_BIN} backup "/var/lib/actionurl/backups/`));
  });

  test('every setting the environment file names is one `actionurl serve` reads', { timeout: 120_000 }, () => {
    const help = runCli(['serve', '--help']);
    assert.equal(help.status, 0);
    const named = [...read('actionurl.env').matchAll(/^#?\s*(ACTIONURL_\w+)=/gm)].map((m) => m[1]);
    assert.ok(named.length >= 10, `settings found: ${named.join(' ')}`);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const name of named) assert.ok(text.includes(`env: ${name})`), `${name} is in serve --help`);
  });

  test('the unit\'s command and environment start the receiver on the database it names', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-unit-'));
    try {
      // Environment=ACTIONURL_DB=/var/lib/actionurl/… with the state folder moved to a temporary one.
      const env = new Map(unitSettings(read('actionurl.service')).get('Environment')!.map((e) => e.split('=', 2) as [string, string]));
      const db = env.get('ACTIONURL_DB')!.replace('/var/lib/actionurl', dir);
      const s = await spawnServe([], { ...Object.fromEntries(env), ACTIONURL_DB: db });
      try {
        assert.equal((await fetch(`${s.url}/actionurl/dnd_on?mac=001565aabbcc`)).status, 200);
        assert.ok(existsSync(db));
      } finally {
        s.child.kill('SIGTERM');
        assert.equal(await s.exited, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the backup job\'s commands write a dated, checked copy of the running receiver\'s database and delete copies older than 14 days', { timeout: 120_000 }, async () => {
    const state = mkdtempSync(join(tmpdir(), 'actionurl-state-'));
    const unit = unitSettings(read('actionurl-backup.service'));
    /** A command line as systemd runs it: specifiers and $$ unescaped, split on spaces outside single quotes. */
    const argv = (line: string) => [...line
      .replaceAll(INSTALLED_BIN, BIN)
      .replaceAll('/var/lib/actionurl', state)
      .replaceAll('%%', '%')
      .replaceAll('$$', '$')
      .matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
    const db = join(state, 'actionurl.sqlite');
    const s = await spawnServe([], { ACTIONURL_DB: db });
    try {
      assert.equal((await fetch(`${s.url}/actionurl/dnd_on?mac=001565aabbcc`)).status, 200);
      mkdirSync(join(state, 'backups')); // StateDirectory= creates it
      const old = join(state, 'backups', 'actionurl-2020-01-01T0000.sqlite');
      writeFileSync(old, 'an old backup');
      writeFileSync(`${old}.control.key`, 'its control key');
      const twentyDaysAgo = Date.now() / 1000 - 20 * 86_400;
      utimesSync(old, twentyDaysAgo, twentyDaysAgo);
      utimesSync(`${old}.control.key`, twentyDaysAgo, twentyDaysAgo);

      const [cmd, ...args] = argv(unit.get('ExecStart')![0]);
      const backup = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ACTIONURL_DB: db }, timeout: 60_000 });
      assert.equal(backup.status, 0, backup.stderr);
      assert.match(backup.stdout, /^backup written: .*\(.*, 1 events up to id 1, 0 rejected requests\) in /);
      const [post, ...postArgs] = argv(unit.get('ExecStartPost')![0]);
      const prune = spawnSync(post, postArgs, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(prune.status, 0, prune.stderr);
      // The new copy and the control key that opens its phone credentials; the old pair is gone.
      const left = readdirSync(join(state, 'backups')).sort();
      assert.equal(left.length, 2, left.join(' '));
      assert.match(left[0], /^actionurl-\d{4}-\d\d-\d\dT\d{4}\.sqlite$/);
      assert.equal(left[1], `${left[0]}.control.key`);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
      rmSync(state, { recursive: true, force: true });
    }
  });
});
