import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { BIN, spawnServe } from './helpers/child.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'actionurl-serve-'));
}

test('serve creates the database directory, prints the ingest template, stores events and stops cleanly on SIGTERM', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const db = join(dir, 'nested', 'data', 'events.sqlite');
  try {
    const s = await spawnServe(['--db', db], { ACTIONURL_TOKEN: 'envtoken' });
    assert.ok(existsSync(db));
    assert.match(s.stdout(), /phones send: http:\/\/127\.0\.0\.1:\d+\/actionurl\/<incident>\?mac=\$mac&.*token=envtoken/);
    const { responses } = await sendRaw(s.port, 'GET /actionurl/dnd_on?mac=001565aabbcc&token=envtoken HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(responses[0].status, 200);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const store = new SqliteStore(db);
    assert.equal((await store.events({ limit: 10 })).length, 1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a postgres:// database that cannot be reached is one clear line and exit code 75 (try again later)', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', 'postgres://user:pw@127.0.0.1:1/none'], { encoding: 'utf8' });
  // Unreachable is not a mistake in the command: a service manager restarts on 75 (EX_TEMPFAIL), not on 2.
  assert.equal(r.status, 75);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!r.stderr.includes(':pw@'), 'the password is not printed');
});

test('bad flags are one line and exit code 2', { timeout: 180_000 }, () => {
  for (const args of [['--port', 'x'], ['--allow', 'lan'], ['--rate-limit', 'fast'], ['--retention', 'forever'], ['--tls-cert', 'a.pem'], ['--max-stream-clients', '0']]) {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', ':memory:', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^error: .+\n$/);
  }
});

test('with --tls-cert/--tls-key the receiver speaks HTTPS (openssl self-signed certificate)', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const s = await spawnServe(['--db', join(dir, 'db.sqlite'), '--tls-cert', cert, '--tls-key', key]);
    try {
      assert.match(s.url, /^https:/);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port: s.port, host: '127.0.0.1', ca: readFileSync(cert), checkServerIdentity: () => undefined }, () => {
          socket.write('GET /actionurl/registered?mac=001565aabbcc&display_local=Front Desk HTTP/1.0\r\n\r\n');
        });
        let out = '';
        socket.on('data', (c) => (out += c.toString()));
        socket.on('end', () => resolve(out));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.0 200 OK/);
      // Plain HTTP on the TLS port is not answered as HTTP, and does not hurt the server.
      await sendRaw(s.port, 'GET / HTTP/1.1\r\n\r\n', { timeoutMs: 1000 });
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the banner says where it is bound, and the log lines come after it, not inside it', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '0.0.0.0', '--db', join(dir, 'db.sqlite'), '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const until = Date.now() + 30_000;
    while (!/"msg":"receiver listening"/.test(out)) {
      assert.ok(Date.now() < until && child.exitCode === null, `no start-up log line: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = out.split('\n');
    assert.match(lines[0], /^actionurl receiver listening on port \d+ of every address of this machine \(--host 0\.0\.0\.0\); here: http:\/\/127\.0\.0\.1:\d+$/);
    const firstJson = lines.findIndex((l) => l.startsWith('{'));
    const lastBanner = lines.findIndex((l) => l.startsWith('  control:'));
    assert.ok(lastBanner > 0 && firstJson > lastBanner, `banner lines 0..${lastBanner}, first log line ${firstJson}:\n${out}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
});
