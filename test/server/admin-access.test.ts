/**
 * Secure by default: without --admin-token, clients on this machine see the dashboard and API, and clients
 * from elsewhere need the token the receiver generated at first start (kept in its database, printed as a
 * sign-in link). Tried over a real non-loopback address of this machine, as another computer on the LAN
 * would reach it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/start.ts';
import { startCli } from '../phone/spawn-cli.ts';
import { until } from '../forwarding/helpers/until.ts';

/** Waits (at most 20 s) until `read()` matches `re`. */
const printed = (read: () => string, re: RegExp) => until(`${re} printed`, () => re.test(read()), 20_000);

/** An IPv4 address of this machine that is not loopback: what a LAN client connects to. */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const LAN = lanAddress();

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('dashboard and API access without --admin-token', { timeout: 60_000 }, () => {
  let dir: string;
  const servers: RunningServer[] = [];
  // One receiver at a time on the shared database (a second one on the same file is refused): the
  // previous test's is stopped first; it keeps its data, so the generated token is the same.
  let onShared: RunningServer | undefined;
  const start = async (options: ServerOptions = {}) => {
    if (options.db === undefined) await onShared?.close();
    const s = await startServer({ db: join(dir, 'db.sqlite'), port: 0, host: '0.0.0.0', logLevel: 'silent', ...options });
    if (options.db === undefined) onShared = s;
    servers.push(s);
    return s;
  };
  before(() => {
    // This machine must have a LAN address for these tests to mean anything; fail rather than skip.
    assert.ok(LAN, 'no non-loopback IPv4 address on this machine (os.networkInterfaces)');
    dir = mkdtempSync(join(tmpdir(), 'actionurl-access-'));
  });
  after(async () => {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('loopback gets in; the LAN address needs the generated token; the token survives a restart', async () => {
    const s = await start();
    const token = s.ctx.settings.adminToken;
    assert.ok(token && token.length >= 40, 'a long random token was generated');
    const local = `http://127.0.0.1:${s.port}`;
    const lan = `http://${LAN}:${s.port}`;

    assert.equal((await get(`${local}/api/v1/phones`)).status, 200);
    assert.equal((await get(`${local}/`)).status, 200);

    const refused = await get(`${lan}/api/v1/phones`);
    assert.equal(refused.status, 401);
    assert.match(JSON.parse(refused.body).error, /admin token required from other machines/);
    assert.equal((await get(`${lan}/api/v1/calls`)).status, 401);
    assert.equal((await get(`${lan}/api/v1/phones`, { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`${lan}/api/v1/phones`, { Authorization: `Bearer ${token}` })).status, 200);
    const page = await get(`${lan}/`);
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login');
    // Probes and phones are not behind it.
    assert.equal((await get(`${lan}/healthz`)).status, 200);
    assert.equal((await get(`${lan}/actionurl/registered?mac=001565000001`)).status, 200);

    await s.close();
    const again = await start();
    assert.equal(again.ctx.settings.adminToken, token, 'the same token after a restart');
  });

  test('the sign-in link signs a browser in from another machine; a wrong one does not', async () => {
    const s = await start();
    const lan = `http://${LAN}:${s.port}`;
    const wrong = await get(`${lan}/?token=nope`);
    assert.equal(wrong.status, 303);
    assert.equal(wrong.headers.get('location'), '/login?error=1');
    assert.equal(wrong.headers.get('set-cookie'), null);

    const link = await get(`${lan}/?token=${encodeURIComponent(s.ctx.settings.adminToken!)}`);
    assert.equal(link.status, 303);
    assert.equal(link.headers.get('location'), '/', 'the token leaves the address bar');
    const cookie = link.headers.get('set-cookie')!.split(';')[0];
    assert.match(cookie, /^actionurl_session_[0-9a-f]{10}=/);
    assert.equal((await get(`${lan}/`, { Cookie: cookie })).status, 200);
    assert.equal((await get(`${lan}/api/v1/phones`, { Cookie: cookie })).status, 200);
  });

  test('a proxy on this machine passing on a LAN client\'s request is not taken for a local client', async () => {
    const s = await start();
    const local = `http://127.0.0.1:${s.port}`;
    assert.equal((await get(`${local}/api/v1/phones`, { 'X-Forwarded-For': '192.168.1.50' })).status, 401);
    assert.equal((await get(`${local}/api/v1/phones`, { Forwarded: 'for=192.168.1.50' })).status, 401);
  });

  test('--admin-token: needed from this machine too; --open: anyone gets in', async () => {
    const guarded = await start({ db: join(dir, 'guarded.sqlite'), adminToken: 'a-token-of-my-own' });
    assert.equal((await get(`http://127.0.0.1:${guarded.port}/api/v1/phones`)).status, 401);
    assert.equal((await get(`http://${LAN}:${guarded.port}/api/v1/phones`, { Authorization: 'Bearer a-token-of-my-own' })).status, 200);

    const open = await start({ db: join(dir, 'open.sqlite'), open: true });
    assert.equal(open.ctx.settings.adminToken, undefined);
    assert.equal((await get(`http://${LAN}:${open.port}/api/v1/phones`)).status, 200);
    assert.equal((await get(`http://${LAN}:${open.port}/`)).status, 200);
  });

  test('serve prints the sign-in link; --open says loudly that it is open', async () => {
    const cli = startCli(['serve', '--port', '0', '--db', join(dir, 'cli.sqlite')]);
    let out = '';
    cli.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await printed(() => out, /dashboard:/);
      const link = /from others, sign in with: (http:\/\/\S+:(\d+)\/\?token=([A-Za-z0-9_-]{43}))$/m.exec(out);
      assert.ok(link, out);
      // The link works from the LAN: it signs the browser in.
      const res = await get(`http://${LAN}:${link[2]}/?token=${link[3]}`);
      assert.equal(res.status, 303);
      assert.match(res.headers.get('set-cookie') ?? '', /^actionurl_session_[0-9a-f]{10}=/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    assert.equal((await cli.done).status, 0);

    const open = startCli(['serve', '--port', '0', '--db', join(dir, 'cli-open.sqlite'), '--open']);
    let openOut = '';
    open.child.stdout!.on('data', (b: Buffer) => (openOut += b.toString()));
    try {
      await printed(() => openOut, /dashboard:/);
      // The warning is a log line, written next to the banner in whichever order.
      await printed(() => openOut, /--open: the dashboard and API/);
    } finally {
      open.child.kill('SIGTERM');
    }
    await open.done;
    assert.match(openOut, /open to anyone who can reach it \(--open\)/);
    assert.match(openOut, /"level":40.*--open: the dashboard and API .* are open to anyone/);
  });

  test('--open with --admin-token is a one-line mistake', async () => {
    const r = await startCli(['serve', '--port', '0', '--db', ':memory:', '--open', '--admin-token', 'x'.repeat(16)]).done;
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --open and --admin-token contradict each other/);
  });
});
