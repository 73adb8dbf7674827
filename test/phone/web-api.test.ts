import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ingestConfig } from '../../src/core/ingest-url.ts';
import { createPhone } from '../../src/phone/phone.ts';
import { startPhoneWeb } from '../../src/phone/web/server.ts';
import { startCaptureServer } from './capture-server.ts';

const BASIC = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

async function setup() {
  const receiver = await startCaptureServer();
  const phone = createPhone({ mac: '00:15:65:00:00:01', actionUrl: ingestConfig(receiver.base) });
  const web = await startPhoneWeb(phone);
  after(async () => {
    await web.close();
    await phone.close();
    await receiver.close();
  });
  const api = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') => fetch(web.url + path, {
    method,
    headers: { authorization: BASIC, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { receiver, phone, web, api };
}

async function login(base: string, password = 'admin'): Promise<string | undefined> {
  const r = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password }).toString(),
  });
  return r.status === 303 ? r.headers.get('set-cookie')?.split(';')[0] : undefined;
}

test('control API: actions fire incidents and send requests; impossible actions get 409 with the reason', { timeout: 60_000 }, async () => {
  const { receiver, api } = await setup();
  const boot = await api('/api/action', { do: 'boot' });
  assert.equal(boot.status, 200);
  const body = await boot.json() as { incidents: { slug: string }[]; deliveries: { status: number; incident: string }[] };
  assert.deepEqual(body.incidents.map((i) => i.slug), ['setup_completed', 'ip_change']);
  assert.deepEqual(body.deliveries.map((d) => [d.incident, d.status]), [['setup_completed', 200], ['ip_change', 200]]);
  assert.deepEqual(receiver.targets().map((t) => t.split('?')[0]), ['/actionurl/setup_completed', '/actionurl/ip_change']);

  const refused = await api('/api/action', { do: 'answer' });
  assert.equal(refused.status, 409);
  assert.deepEqual(await refused.json(), { error: 'no ringing call to answer' });
  assert.equal((await api('/api/action', { do: 'dial' })).status, 400);

  const state = await (await api('/api/state')).json() as { state: { booted: boolean }; identity: { mac: string } };
  assert.equal(state.state.booted, true);
  assert.equal(state.identity.mac, '001565000001');
  const log = await (await api('/api/log')).json() as { deliveries: unknown[] };
  assert.equal(log.deliveries.length, 2);
});

test('control API needs credentials; wrong ones are refused', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const anonymous = await fetch(`${web.url}/api/state`);
  assert.equal(anonymous.status, 401);
  const wrong = await fetch(`${web.url}/api/state`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  const asForm = await fetch(`${web.url}/api/action`, {
    method: 'POST', headers: { authorization: BASIC, 'content-type': 'text/plain' }, body: '{"do":"boot"}',
  });
  assert.equal(asForm.status, 415, 'only JSON bodies drive the phone');
});

test('config API: lint errors block saving, warnings come back', { timeout: 60_000 }, async () => {
  const { api, phone } = await setup();
  const before = phone.config;
  const bad = await api('/api/config', { enabled: true, urls: { registered: 'ftp://x/y' } }, 'PUT');
  assert.equal(bad.status, 422);
  assert.equal(((await bad.json()) as { errors: { code: string }[] }).errors[0].code, 'bad_scheme');
  assert.deepEqual(phone.config, before);
  const ok = await api('/api/config', { enabled: true, urls: { registered: 'http://h/r?who=$remote' } }, 'PUT');
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { warnings: { code: string }[] }).warnings[0].code, 'not_filled');
  assert.deepEqual(phone.config, { enabled: true, urls: { registered: 'http://h/r?who=$remote' } });
  const lint = await (await api('/api/lint', { slug: 'hold', url: 'http://h/x?$nope' })).json() as { warnings: { code: string }[] };
  assert.equal(lint.warnings[0].code, 'unknown_token');
});

test('pages need a login (admin/admin); every page has a strict CSP and no inline script', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const r = await fetch(`${web.url}/actionurl`, { redirect: 'manual' });
  assert.deepEqual([r.status, r.headers.get('location')], [303, '/login']);
  assert.equal(await login(web.url, 'wrong'), undefined);
  const sid = await login(web.url);
  assert.ok(sid);
  for (const path of ['/panel', '/actionurl', '/log', '/password', '/login']) {
    const page = await fetch(web.url + path, { headers: { cookie: sid } });
    assert.equal(page.status, 200, path);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'; style-src 'self'/);
    const text = await page.text();
    assert.doesNotMatch(text, /<script>|<script(?![^>]*\bsrc=)|\son\w+=|style=/i, `${path} has inline script or style`);
  }
});

test('wrong logins from one address are throttled: after 10 in a minute, 429 with Retry-After, even for the right password', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const post = (password: string, headers: Record<string, string> = {}) => fetch(`${web.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ username: 'admin', password }).toString(),
  });
  for (let i = 0; i < 10; i++) assert.equal((await post(`guess${i}`)).status, 401, `attempt ${i + 1}`);
  const blocked = await post('admin');
  assert.equal(blocked.status, 429);
  assert.equal(blocked.headers.get('set-cookie'), null);
  const wait = Number(blocked.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${blocked.headers.get('retry-after')}`);
  assert.match(await blocked.text(), /Too many wrong logins/);
  // Basic credentials on the control API are the same password: they are blocked too.
  const viaApi = await fetch(`${web.url}/api/state`, { headers: { authorization: BASIC } });
  assert.equal(viaApi.status, 429);
  assert.ok(Number(viaApi.headers.get('retry-after')) >= 1);
});

test('wrong basic credentials on the control API count as wrong logins', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const wrong = `Basic ${Buffer.from('admin:nope').toString('base64')}`;
  for (let i = 0; i < 10; i++) assert.equal((await fetch(`${web.url}/api/state`, { headers: { authorization: wrong } })).status, 401);
  assert.equal((await fetch(`${web.url}/api/state`, { headers: { authorization: BASIC } })).status, 429);
  assert.equal(await login(web.url), undefined, 'the login form is blocked for that address as well');
});

test('a login posted from another site is refused without a session (login CSRF)', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const post = (headers: Record<string, string>) => fetch(`${web.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: 'username=admin&password=admin',
  });
  const crossSite: Record<string, string>[] = [
    { origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' },
  ];
  for (const headers of crossSite) {
    const r = await post(headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.equal(r.headers.get('set-cookie'), null, JSON.stringify(headers));
  }
  const ours = await post({ origin: web.url, 'sec-fetch-site': 'same-origin' });
  assert.equal(ours.status, 303);
  assert.match(ours.headers.get('set-cookie') ?? '', /^sid=/);
  assert.equal((await post({})).status, 303, 'scripts without Origin or Sec-Fetch-Site still log in');
});

test('forms without the session\'s token are refused', { timeout: 60_000 }, async () => {
  const { web, phone } = await setup();
  const sid = (await login(web.url))!;
  const r = await fetch(`${web.url}/panel/action`, {
    method: 'POST', redirect: 'manual', headers: { cookie: sid, 'content-type': 'application/x-www-form-urlencoded' }, body: 'do=boot&csrf=forged',
  });
  assert.equal(r.status, 403);
  assert.equal(phone.state.booted, false);
});

test('changing the password logs everyone out; the old password stops working', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const sid = (await login(web.url))!;
  const page = await (await fetch(`${web.url}/password`, { headers: { cookie: sid } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
  const change = await fetch(`${web.url}/password`, {
    method: 'POST', redirect: 'manual', headers: { cookie: sid, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, current: 'admin', next: 'n3w-pass', again: 'n3w-pass' }).toString(),
  });
  assert.equal(change.status, 303);
  assert.equal((await fetch(`${web.url}/panel`, { headers: { cookie: sid }, redirect: 'manual' })).status, 303);
  assert.equal(await login(web.url, 'admin'), undefined);
  assert.ok(await login(web.url, 'n3w-pass'));
});

test('config download in each vendor\'s format names the file as the phone asks for it', { timeout: 60_000 }, async () => {
  const { web } = await setup();
  const sid = (await login(web.url))!;
  const y = await fetch(`${web.url}/config/download?vendor=yealink`, { headers: { cookie: sid } });
  assert.equal(y.headers.get('content-disposition'), 'attachment; filename="001565000001.cfg"');
  assert.match(await y.text(), /^#!version:1\.0\.0\.1\n/);
  const g = await fetch(`${web.url}/config/download?vendor=grandstream`, { headers: { cookie: sid } });
  assert.match(g.headers.get('content-disposition') ?? '', /cfg001565000001\.xml/);
  assert.equal((await fetch(`${web.url}/config/download?vendor=nokia`, { headers: { cookie: sid } })).status, 400);
  const viaApi = await fetch(`${web.url}/api/config/file?vendor=snom`, { headers: { authorization: BASIC } });
  assert.match(await viaApi.text(), /<settings>/);
});
