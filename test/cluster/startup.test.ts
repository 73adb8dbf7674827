/**
 * `actionurl serve` against the real PostgreSQL with a mistake in --db: one line naming it and the fix, exit
 * code 2 (a service manager should not restart on it), quickly.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type pg from 'pg';
import { BIN } from '../cli/run-cli.ts';
import { BASE, connectAdmin } from './fixture.ts';

let admin: pg.Client;
before(async () => {
  admin = await connectAdmin(); // fails (not skips) when the database is not there
});
after(async () => {
  await admin.end();
});

function serve(db: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--journal', 'off', '--log-level', 'silent'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

function withUrl(change: (u: URL) => void): string {
  const u = new URL(BASE);
  change(u);
  return u.toString();
}

for (const [what, db, patterns] of [
  ['a database that does not exist', withUrl((u) => (u.pathname = '/au_no_such_database')), [/database "au_no_such_database" does not exist/, /createdb au_no_such_database/]],
  ['a user PostgreSQL does not know', withUrl((u) => (u.username = 'au_no_such_user')), [/refused user "au_no_such_user"/, /check the user and password/]],
] as const) {
  test(`serve with ${what}: one line with the fix, exit code 2`, { timeout: 60_000 }, () => {
    const r = serve(db);
    assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: --db postgres:\/\//);
    for (const p of patterns) assert.match(lines[0], p);
  });
}
