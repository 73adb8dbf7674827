/**
 * `actionurl backup FILE` against a real receiver under load, and the documented restore (copy the file and
 * its control key into place, start a receiver on it), compared through the REST API, stored phone
 * credentials included; the pg_dump line it gives for PostgreSQL, run; plus the mistakes an admin makes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../src/store/sqlite-schema.ts';
import { BIN, spawnServe, type ServeChild } from '../server/helpers/child.ts';
import { runCli } from './run-cli.ts';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { connectOptionalAdmin } from '../store/pg-optional.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process without blocking this one (the load generator keeps running meanwhile). */
function runAsync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function getJson(base: string, path: string): Promise<any> {
  const res = await fetch(`${base}${path}`);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** Every item of a paged list (`next` goes back as `before`), newest first. */
async function allPages(base: string, path: string, key: string): Promise<any[]> {
  const out: any[] = [];
  let before: number | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: any = await getJson(base, `${path}${sep}limit=1000${before === null ? '' : `&before=${before}`}`);
    out.push(...page[key]);
    before = page.next;
  } while (before !== null);
  return out;
}

async function snapshot(base: string) {
  const phones = (await getJson(base, '/api/v1/phones')).phones as any[];
  return {
    events: await allPages(base, '/api/v1/events', 'events'),
    calls: await allPages(base, '/api/v1/calls', 'calls'),
    phones: [...phones].sort((a, b) => a.mac.localeCompare(b.mac)),
  };
}

/**
 * Phones calling in a loop (incoming call, answered, hung up), several at once, until stopped. Every answer
 * is counted by status, so a request the receiver dropped while the backup ran shows up.
 */
function startLoad(base: string, workers: number) {
  const statuses = new Map<number | string, number>();
  let stopped = false;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; !stopped; n++) {
      const mac = `0015650000${(w * 7 + (n % 7)).toString(16).padStart(2, '0')}`;
      for (const incident of ['incoming_call', 'call_established', 'call_terminated']) {
        const url = `${base}/actionurl/${incident}?mac=${mac}&call_id=${n}&remote=20${w}&display_remote=Caller%20${w}&local=100`;
        let key: number | string;
        try {
          const res = await fetch(url);
          await res.arrayBuffer();
          key = res.status;
        } catch (err) {
          key = (err as Error).message;
        }
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
  });
  return {
    statuses,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

async function lastEventId(base: string): Promise<number> {
  const page = await getJson(base, '/api/v1/events?limit=1');
  return page.events[0]?.id ?? 0;
}

async function waitForEvents(base: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await lastEventId(base)) < atLeast) {
    if (Date.now() > deadline) throw new Error(`fewer than ${atLeast} events after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The documented restore (docs/operations.md): the backup file copied into place and, when the backup has
 * one, its control key as control.key beside it; a receiver started on them.
 */
async function restore(backup: string, dir: string): Promise<ServeChild> {
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'actionurl.sqlite');
  copyFileSync(backup, db);
  if (existsSync(`${backup}.control.key`)) copyFileSync(`${backup}.control.key`, join(dir, 'control.key'));
  return spawnServe(['--db', db]);
}

async function stopServe(s: ServeChild | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  await s.exited;
}

describe('actionurl backup', { timeout: 180_000 }, () => {
  test('a backup taken under load restores into a fresh receiver with the same events, phones and calls, and ingest loses nothing meanwhile', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    const live = join(dir, 'live', 'actionurl.sqlite');
    const servers: ServeChild[] = [];
    try {
      const a = await spawnServe(['--db', live]);
      servers.push(a);
      const load = startLoad(a.url, 6);
      let underLoad: Run;
      let afterBackup: number;
      try {
        await waitForEvents(a.url, 600);
        // ACTIONURL_DB, as the systemd unit's environment file sets it for both serve and backup.
        underLoad = await runAsync(['backup', join(dir, 'under-load.sqlite'), '--json'], { ACTIONURL_DB: live });
        afterBackup = await lastEventId(a.url);
        await waitForEvents(a.url, afterBackup + 300);
      } finally {
        await load.stop();
      }
      assert.equal(underLoad.status, 0, underLoad.stderr);
      assert.equal(underLoad.stderr, '');
      assert.deepEqual([...load.statuses.keys()], [200], `every request answered 200: ${JSON.stringify([...load.statuses])}`);
      const taken = JSON.parse(underLoad.stdout) as { file: string; lastEventId: number; counts: { events: number } };
      assert.ok(taken.lastEventId >= 600, `the copy holds the events stored before it started (${taken.lastEventId})`);
      assert.ok(taken.lastEventId <= afterBackup);
      // One self-contained database file, and the key that opens the phone credentials stored in it.
      assert.deepEqual(readdirSync(dir).sort(), ['live', 'under-load.sqlite', 'under-load.sqlite.control.key']);

      const whole = await snapshot(a.url);
      assert.ok(whole.events.length > taken.lastEventId, 'ingest went on after the backup');

      const b = await restore(join(dir, 'under-load.sqlite'), join(dir, 'restored-under-load'));
      servers.push(b);
      const restored = await snapshot(b.url);
      // Exactly the events up to one commit: the same rows, none missing in between, none after.
      const prefix = whole.events.filter((e) => e.id <= taken.lastEventId);
      assert.equal(restored.events.length, taken.counts.events);
      assert.deepEqual(restored.events, prefix);
      // Phones rebuilt from the copy: one per phone that sent an event in it, last seen at its newest one.
      const newest = new Map<string, string>();
      for (const e of prefix) if (!newest.has(e.mac)) newest.set(e.mac, e.received_at);
      assert.deepEqual(restored.phones.map((p) => p.mac), [...newest.keys()].sort());
      for (const p of restored.phones) assert.equal(p.last_seen, newest.get(p.mac), p.mac);
      await stopServe(b);

      // Once the load stopped, a backup restores to exactly what the running receiver shows.
      const quiet = await runAsync(['backup', join(dir, 'quiet.sqlite'), '--db', live]);
      assert.equal(quiet.status, 0, quiet.stderr);
      assert.match(quiet.stdout, new RegExp(`^backup written: .*quiet\\.sqlite \\(.* ${whole.events.length} events up to id ${whole.events[0].id}, 0 rejected requests\\) in `));
      const c = await restore(join(dir, 'quiet.sqlite'), join(dir, 'restored-quiet'));
      servers.push(c);
      const [original, copy] = await Promise.all([snapshot(a.url), snapshot(c.url)]);
      assert.ok(original.calls.length > 0 && original.phones.length > 0);
      assert.deepEqual(copy, original);
    } finally {
      for (const s of servers) await stopServe(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stored phone credentials open after a restore on another machine: the control key is copied beside the backup', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    const servers: ServeChild[] = [];
    try {
      const live = join(dir, 'live', 'actionurl.sqlite');
      const a = await spawnServe(['--db', live]);
      servers.push(a);
      const mac = '001565aabb01';
      assert.equal((await fetch(`${a.url}/actionurl/registered?mac=${mac}&ip=127.0.0.1`)).status, 200);
      const put = await fetch(`${a.url}/api/v1/phones/${mac}/control`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: 'http://127.0.0.1:9', vendor: 'yealink', username: 'admin', password: 'phone-secret' }),
      });
      assert.equal(put.status, 200, await put.text());
      const control = async (base: string) => (await getJson(base, `/api/v1/phones/${mac}/control`)).credentials;
      assert.equal(await control(a.url), 'set');

      const r = await runAsync(['backup', join(dir, 'copy.sqlite'), '--db', live]);
      assert.equal(r.status, 0, r.stderr);
      const key = join(dir, 'copy.sqlite.control.key');
      assert.ok(r.stdout.includes(`control key copied to ${key}`), r.stdout);
      // The copy of the key is as private as the key itself, and the same key.
      assert.equal(statSync(key).mode & 0o777, 0o600);
      assert.equal(readFileSync(key, 'utf8'), readFileSync(join(dir, 'live', 'control.key'), 'utf8'));
      // The database copy alone still holds no password.
      assert.ok(!readFileSync(join(dir, 'copy.sqlite')).includes('phone-secret'));

      const b = await restore(join(dir, 'copy.sqlite'), join(dir, 'elsewhere'));
      servers.push(b);
      assert.equal(await control(b.url), 'set');

      // --no-control-key leaves the key out (for keeping it apart), and says nothing was copied.
      const bare = await runAsync(['backup', join(dir, 'bare.sqlite'), '--db', live, '--no-control-key', '--json']);
      assert.equal(bare.status, 0, bare.stderr);
      assert.equal(JSON.parse(bare.stdout).controlKey, null);
      assert.ok(!existsSync(join(dir, 'bare.sqlite.control.key')));
      // A key copy already there is not replaced without --force, and nothing is written then.
      const again = await runAsync(['backup', join(dir, 'again.sqlite'), '--db', live]);
      assert.equal(again.status, 0, again.stderr);
      rmSync(join(dir, 'again.sqlite'));
      const refused = await runAsync(['backup', join(dir, 'again.sqlite'), '--db', live]);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /^error: .*again\.sqlite\.control\.key already exists; give a new name, or --force\n$/);
      assert.ok(!existsSync(join(dir, 'again.sqlite')));
    } finally {
      for (const s of servers) await stopServe(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the pg_dump line given for a PostgreSQL --db with ?schema= runs, and dumps that schema', { timeout: 120_000 }, async (t) => {
    const admin = await connectOptionalAdmin();
    if (!admin) {
      t.skip('PostgreSQL not reachable');
      return;
    }
    await admin.end();
    if (spawnSync('pg_dump', ['--version']).status !== 0) {
      t.skip('pg_dump is not installed');
      return;
    }
    const r = await startTestReceiver({ storeKind: 'postgres' });
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    try {
      assert.equal((await r.ingest('/actionurl/dnd_on?mac=001565aabb02')).status, 200);
      assert.match(r.db, /[?&]schema=/);
      const refused = runCli(['backup', join(dir, 'x.sqlite'), '--db', r.db]);
      assert.equal(refused.status, 2);
      const line = /back it up with pg_dump: (pg_dump .*)$/.exec(refused.stderr.trim())?.[1];
      assert.ok(line, refused.stderr);
      const dump = join(dir, 'actionurl.dump');
      const run = spawnSync('sh', ['-c', line.replace('--file=actionurl.dump', `--file='${dump}'`)], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${line}: ${run.stderr}`);
      const schema = new URL(r.db).searchParams.get('schema')!;
      const list = spawnSync('pg_restore', ['--list', dump], { encoding: 'utf8' });
      assert.match(list.stdout, new RegExp(`TABLE ${schema} events `));
    } finally {
      await r.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stopped receiver\'s database is backed up without leaving -wal or -shm files behind', { timeout: 120_000 }, async () => {
    // Run as root from cron, leftover files would belong to root and the service user could not open its
    // own database any more.
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    try {
      const db = join(dir, 'actionurl.sqlite');
      const s = await spawnServe(['--db', db]);
      const res = await fetch(`${s.url}/actionurl/dnd_on?mac=001565aabbcc`);
      assert.equal(res.status, 200);
      await stopServe(s);
      // Only the SQLite files matter here: the receiver also keeps its remote-control key (control.key) and its
      // one-receiver lock (actionurl.sqlite.receiver-lock) beside them, and the backup its key copy.
      const sqliteFiles = () => readdirSync(dir).filter((f) => f.includes('.sqlite') && !f.endsWith('.receiver-lock') && !f.endsWith('.control.key')).sort();
      assert.deepEqual(sqliteFiles(), ['actionurl.sqlite']);
      const r = runCli(['backup', join(dir, 'copy.sqlite'), '--db', db]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(sqliteFiles(), ['actionurl.sqlite', 'copy.sqlite']);
      const copy = new Database(join(dir, 'copy.sqlite'), { readonly: true });
      const rows = copy.prepare('SELECT mac, incident FROM events').all();
      copy.close();
      assert.deepEqual(rows, [{ mac: '001565aabbcc', incident: 'dnd_on' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mistakes are one line and exit code 2, and leave existing files alone', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    try {
      const db = join(dir, 'actionurl.sqlite');
      const init = new Database(db);
      migrate(init);
      init.close();
      const other = join(dir, 'other.sqlite');
      const plain = new Database(other);
      plain.exec('CREATE TABLE t (x)');
      plain.close();
      writeFileSync(join(dir, 'notes.txt'), 'not a database');
      writeFileSync(join(dir, 'existing.sqlite'), 'an older backup');
      const cases: [string[], RegExp][] = [
        [['backup', join(dir, 'x.sqlite'), '--db', 'postgres://admin:s3cret@127.0.0.1/actionurl'], /PostgreSQL; back it up with pg_dump/],
        [['backup', join(dir, 'x.sqlite'), '--db', join(dir, 'missing.sqlite')], /missing\.sqlite: no such file/],
        [['backup', join(dir, 'x.sqlite'), '--db', join(dir, 'notes.txt')], /not a SQLite database/],
        [['backup', join(dir, 'x.sqlite'), '--db', other], /not an actionurl database/],
        [['backup', join(dir, 'x.sqlite'), '--db', dir], /is not a file/],
        [['backup', join(dir, 'existing.sqlite'), '--db', db], /already exists; give a new name, or --force/],
        [['backup', db, '--db', db], /is the database itself/],
        [['backup', `${db}-wal`, '--db', db], /is the database itself/],
        [['backup', join(dir, 'no', 'such', 'folder', 'x.sqlite'), '--db', db], /the folder .* does not exist/],
        [['backup', dir, '--db', db], /is a folder; give a file name in it/],
        [['backup', '--db', db], /missing required argument 'file'/],
      ];
      for (const [args, expected] of cases) {
        const r = runCli(args);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, /^error: /);
        assert.match(r.stderr, expected);
        assert.ok(!r.stderr.includes('s3cret'), 'the password is not printed');
      }
      assert.equal(readFileSync(join(dir, 'existing.sqlite'), 'utf8'), 'an older backup');
      assert.deepEqual(readdirSync(dir).sort(), ['actionurl.sqlite', 'existing.sqlite', 'notes.txt', 'other.sqlite']);
      // --force replaces it.
      const r = runCli(['backup', join(dir, 'existing.sqlite'), '--db', db, '--force']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!existsSync(join(dir, 'x.sqlite')));
      const copy = new Database(join(dir, 'existing.sqlite'), { readonly: true });
      assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete');
      copy.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a disk that fills up during the copy is one line, exit code 2, and leaves no partial file', { timeout: 120_000 }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-backup-'));
    const small = join(dir, 'small-disk');
    mkdirSync(small);
    // A 200 KiB file system for the target; mounting needs privileges a developer's machine may not give.
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', small], { encoding: 'utf8' });
    if (mount.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      t.skip(`cannot mount a small tmpfs here: ${(mount.stderr || String(mount.error)).trim()}`);
      return;
    }
    try {
      const db = join(dir, 'actionurl.sqlite');
      const init = new Database(db);
      migrate(init);
      const insert = init.prepare('INSERT INTO rejected (received_at, source_ip, method, status, reason, raw_target) VALUES (0, ?, ?, 400, ?, ?)');
      for (let i = 0; i < 300; i++) insert.run('10.0.0.1', 'GET', 'filler', Buffer.alloc(4000));
      init.close();
      const r = runCli(['backup', join(small, 'copy.sqlite'), '--db', db]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^error: .*copy\.sqlite: the disk is full .*; free space or back up to another disk\n$/);
      assert.deepEqual(readdirSync(small), []);
    } finally {
      spawnSync('umount', [small]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
