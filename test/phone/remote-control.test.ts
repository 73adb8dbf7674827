/**
 * The virtual phone's remote-control endpoint and its web page, over real sockets: the allowlist set on the
 * page, the prompt answered on the page, hostile values shown as text, answers in the vendor's form, and a
 * request driving the call engine so the Action URL reports it like a key press.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ingestConfig } from '../../src/core/ingest-url.ts';
import { createPhone } from '../../src/phone/phone.ts';
import { startPhoneWeb } from '../../src/phone/web/server.ts';
import { startCaptureServer } from './capture-server.ts';

const basic = (pw = 'admin') => `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`;

async function setup(vendor: 'yealink' | 'grandstream' | 'fanvil', allow = '') {
  const receiver = await startCaptureServer();
  const phone = createPhone({ vendor, actionUrl: ingestConfig(receiver.base) });
  const web = await startPhoneWeb(phone, { remoteControl: { allow } });
  after(async () => {
    await web.close();
    await phone.close();
    await receiver.close();
  });
  phone.act({ do: 'boot' });
  phone.act({ do: 'register' });
  await phone.drained();
  return { receiver, phone, web };
}

async function session(base: string): Promise<{ cookie: string; csrf: (path: string) => Promise<string> }> {
  const r = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password: 'admin' }).toString(),
  });
  const cookie = r.headers.get('set-cookie')!.split(';')[0];
  return {
    cookie,
    csrf: async (path) => /name="csrf" value="([^"]+)"/.exec(await (await fetch(`${base}${path}`, { headers: { cookie } })).text())![1],
  };
}

describe('virtual phone remote control', { timeout: 120_000 }, () => {
  test('out of the box nobody is allowed; the allowlist set on the web page lets this address in', async () => {
    const { web, phone, receiver } = await setup('yealink');
    const refused = await fetch(`${web.url}/servlet?key=DNDOn`, { headers: { authorization: basic() } });
    assert.equal(refused.status, 403);
    assert.equal(phone.state.dnd, false);

    const s = await session(web.url);
    const bad = await fetch(`${web.url}/remote`, {
      method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: await s.csrf('/remote'), allow: '<script>alert(1)</script>' }).toString(),
    });
    assert.equal(bad.status, 422);
    const page = await bad.text();
    assert.ok(!page.includes('<script>alert(1)'), 'the hostile value is escaped');
    assert.match(page, /&#60;script&#62;alert\(1\)/);

    const saved = await fetch(`${web.url}/remote`, {
      method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: await s.csrf('/remote'), allow: '10.9.*.*, 127.0.0.1' }).toString(),
    });
    assert.equal(saved.status, 303);
    assert.equal(web.control.allow, '10.9.*.*,127.0.0.1');

    const ok = await fetch(`${web.url}/servlet?key=DNDOn`, { headers: { authorization: basic() } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'OK');
    assert.equal(phone.state.dnd, true);
    await phone.drained();
    assert.ok(receiver.targets().some((t) => t.startsWith('/actionurl/dnd_on?')), 'the Action URL reported it');
    const log = await (await fetch(`${web.url}/remote`, { headers: { cookie: s.cookie } })).text();
    assert.match(log, /\/servlet\?key=DNDOn/);
  });

  test('credentials: no header is a 401 challenge, a wrong password is 401, ten wrong ones lock the account (403)', async () => {
    const { web } = await setup('fanvil', 'any');
    const none = await fetch(`${web.url}/cgi-bin/ConfigManApp.com?key=OK`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="Fanvil phone"$/);
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${web.url}/cgi-bin/ConfigManApp.com?key=OK`, { headers: { authorization: basic('x') } })).status, 401);
    const locked = await fetch(`${web.url}/cgi-bin/ConfigManApp.com?key=OK`, { headers: { authorization: basic() } });
    assert.equal(locked.status, 403);
    assert.match(await locked.text(), /locked/);
  });

  test('Grandstream: passcode in the query, JSON answers; an impossible action is {"response":"error","body":"failed"}', async () => {
    const { web, phone } = await setup('grandstream', '127.0.0.1');
    const wrong = await fetch(`${web.url}/cgi-bin/api-phone_operation?cmd=endcall&passcode=nope`);
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { response: 'error', body: 'unauthorized' });
    const nothing = await fetch(`${web.url}/cgi-bin/api-phone_operation?cmd=endcall&passcode=admin`);
    assert.deepEqual(await nothing.json(), { response: 'error', body: 'failed' });
    const dial = await fetch(`${web.url}/cgi-bin/api-make_call?phonenumber=2001&account=0&passcode=admin`);
    assert.equal(dial.headers.get('content-type'), 'application/json');
    assert.deepEqual(await dial.json(), { response: 'success', body: 'complete' });
    assert.deepEqual(phone.state.calls.map((c) => c.remoteUser), ['2001']);
    // A key the phone does not know, at an endpoint it serves: 400 (a 404 would send the receiver to an older path).
    const unknown = await fetch(`${web.url}/cgi-bin/api-send_key?keys=SELF_DESTRUCT&passcode=admin`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { response: 'error', body: 'unknown request' });
    assert.ok(!web.control.records().some((r) => r.request.includes('passcode=admin')), 'the passcode is blanked in the log');
  });

  test('the prompt: refused until the user allows it on the web page', async () => {
    const { web, phone } = await setup('yealink', 'any');
    web.control.configure('any', true);
    const asked = await fetch(`${web.url}/servlet?key=DNDOn`, { headers: { authorization: basic() } });
    assert.equal(asked.status, 403);
    assert.match(await asked.text(), /Allow remote control\?/);
    const s = await session(web.url);
    const page = await (await fetch(`${web.url}/remote`, { headers: { cookie: s.cookie } })).text();
    assert.match(page, /<span>127\.0\.0\.1<\/span> <button type="submit" name="allow" value="1">Allow<\/button>/);
    const allowed = await fetch(`${web.url}/remote/prompt`, {
      method: 'POST', redirect: 'manual', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: await s.csrf('/remote'), address: '127.0.0.1', allow: '1' }).toString(),
    });
    assert.equal(allowed.status, 303);
    assert.equal((await fetch(`${web.url}/servlet?key=DNDOn`, { headers: { authorization: basic() } })).status, 200);
    assert.equal(phone.state.dnd, true);
  });

  test('keys typed one by one dial on ENTER, as on the keypad (Fanvil)', async () => {
    const { web, phone } = await setup('fanvil', 'any');
    const r = await fetch(`${web.url}/cgi-bin/ConfigManApp.com?key=SPEAKER;4;0;0;2;ENTER`, { headers: { authorization: basic() } });
    assert.equal(r.status, 200);
    assert.deepEqual(phone.state.calls.map((c) => [c.remoteUser, c.phase]), [['4002', 'dialing']]);
  });
});
