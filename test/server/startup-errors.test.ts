/**
 * Every mistake with the database at start-up is one line naming the problem and the fix, exit code 2 (75 when
 * PostgreSQL cannot be reached: nothing to fix in the flags, a service manager may retry), and
 * none hangs: the real `actionurl serve`, spawned as a user (or a service manager) would.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN } from '../cli/run-cli.ts';

interface Exit {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `serve` with `--db`; killed (and the test failed) if it runs longer than `limitMs`. */
function serve(db: string, options: { cwd?: string; uid?: number; limitMs?: number; bin?: string; args?: string[] } = {}): Promise<Exit> {
  const started = Date.now();
  const child = spawn(process.execPath, [options.bin ?? BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--log-level', 'silent', ...(options.args ?? [])], {
    cwd: options.cwd,
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 20_000);
  return new Promise((resolve) => child.on('close', (status) => {
    clearTimeout(timer);
    resolve({ status, stdout, stderr, ms: Date.now() - started });
  }));
}

/** Exit 2, nothing on stdout, exactly one line on stderr matching each pattern. */
function assertOneLine(r: Exit, ...patterns: RegExp[]): void {
  assertOneLineWith(2, r, ...patterns);
}

/** PostgreSQL not reachable is not a mistake in the flags: exit code 75, so a service manager may retry. */
function assertOneLineWith(code: number, r: Exit, ...patterns: RegExp[]): void {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^error: /);
  for (const p of patterns) assert.match(lines[0], p);
}

describe('serve: database mistakes at start-up', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'actionurl-startup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--db that is a directory', async () => {
    mkdirSync(join(dir, 'data'));
    assertOneLine(await serve(join(dir, 'data')), /is a directory/, /data\/actionurl\.sqlite/);
  });

  test('--db that is not a database', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'shopping list: milk, eggs, bread, coffee, and a few more things to make this longer than a header\n'.repeat(20));
    assertOneLine(await serve(file), /is not a SQLite database/, /point --db at/);
  });

  test('--db under a file', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    assertOneLine(await serve(join(dir, 'plain', 'sub', 'events.sqlite')), /plain is a file, not a folder/);
  });

  test('--db in a folder the service user cannot write', async () => {
    // Run as an unprivileged user when the tests run as root (root may write anywhere). That user may not
    // be able to read the checkout (a clone in a 0700 home folder), so it runs a copy of the program.
    const asRoot = process.getuid?.() === 0;
    const base = mkdtempSync(join(tmpdir(), 'actionurl-ro-'));
    try {
      chmodSync(base, 0o755);
      const locked = join(base, 'locked');
      mkdirSync(locked, { mode: 0o555 });
      chmodSync(locked, 0o555);
      let bin: string | undefined;
      if (asRoot) {
        const app = join(base, 'app');
        mkdirSync(app);
        const root = join(BIN, '..', '..');
        const copy = spawnSync('cp', ['-r', ...['bin', 'dist', 'node_modules', 'package.json'].map((f) => join(root, f)), app]);
        assert.equal(copy.status, 0, String(copy.stderr));
        assert.equal(spawnSync('chmod', ['-R', 'a+rX', app]).status, 0);
        bin = join(app, 'bin', 'actionurl.js');
      }
      const r = await serve(join(locked, 'events.sqlite'), asRoot ? { uid: 65534, cwd: base, bin } : {});
      assertOneLine(r, /cannot write to the folder/, /locked/, /write access/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('--db /proc/x/y.sqlite answers at once instead of spinning', async () => {
    const r = await serve('/proc/x/y.sqlite', { limitMs: 15_000 });
    assertOneLine(r, /cannot create the folder \/proc\/x/);
  });

  test('a database from a newer actionurl', async () => {
    const file = join(dir, 'newer.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.prepare('INSERT INTO schema_migrations VALUES (99, ?, 0)').run('from the future');
    db.close();
    assertOneLine(await serve(file), /schema version 99, newer than this actionurl knows/, /upgrade actionurl/);
  });

  test('PostgreSQL that refuses connections', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    assertOneLineWith(75, await serve(`postgres://postgres:hunter2@127.0.0.1:${port}/test`), /cannot connect/, /ECONNREFUSED/, /PostgreSQL is running/);
  });

  test('PostgreSQL that never answers: gives up after its timeout, without the password', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const r = await serve(`postgres://postgres:hunter2@127.0.0.1:${port}/test`, { limitMs: 30_000 });
      assertOneLineWith(75, r, /cannot connect/, /timeout/i);
      assert.doesNotMatch(r.stderr, /hunter2/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe('serve: flag mistakes at start-up are one line and exit 2, before anything listens', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'actionurl-flags-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const db = () => join(dir, 'events.sqlite');

  test('--host that is not an address of this machine, or no such name', async () => {
    // 10.255.255.1 is private and not configured here (traffic stays local: nothing is sent to it).
    assertOneLine(await serve(db(), { args: ['--host', '10.255.255.1'] }), /--host 10\.255\.255\.1 is not an address of this machine/);
    assertOneLine(await serve(db(), { args: ['--host', 'nosuch.invalid'] }), /--host nosuch\.invalid: no such host name/);
  });

  test('a postgres:// --db that is not a URL', async () => {
    assertOneLine(await serve('postgres://[::1'), /--db postgres:\/\/\[::1 is not a valid URL/);
  });

  test('--public-url that is not a URL', async () => {
    assertOneLine(await serve(db(), { args: ['--public-url', 'ht!tp:/x'] }), /--public-url/, /not a URL/);
  });

  test('an empty or short token, token secret or admin token is refused with the reason, not taken as none', async () => {
    assertOneLine(await serve(db(), { args: ['--token', ''] }), /--token is empty/);
    assertOneLine(await serve(db(), { args: ['--token', 'abc'] }), /--token is only 3 characters/, /at least 8/);
    assertOneLine(await serve(db(), { args: ['--token-secret', '   '] }), /--token-secret is empty/);
    assertOneLine(await serve(db(), { args: ['--admin-token', 'x'] }), /--admin-token is only 1 character;/, /at least 16/);
  });
});

/** `serve --db db` running until killed; resolves once it says it is listening (fails if it exits first). */
async function listening(db: string): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const until = Date.now() + 60_000;
  while (!out.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start (exit ${child.exitCode}): ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function killed(child: ReturnType<typeof spawn>): Promise<void> {
  const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
  child.kill('SIGKILL'); // however it ends, the lock goes with the process
  await exited;
}

describe('serve: one receiver per SQLite file', { timeout: 120_000 }, () => {
  test('a second receiver on the same file is refused with one line; after the first stops, it starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-one-writer-'));
    const db = join(dir, 'events.sqlite');
    try {
      const first = await listening(db);
      try {
        assertOneLine(await serve(db), /is in use by another receiver/, /events\.sqlite/);
      } finally {
        await killed(first);
      }
      await killed(await listening(db));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
