/**
 * Remote control failing: each way a command goes wrong ends in `failed` with its own reason, at once for
 * refusals, and is never sent twice (the phone's own request log shows exactly what arrived).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { command, finished, receiver, run, setControl, storedFiles, virtualPhone } from './helpers.ts';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe('remote control failures', { timeout: 120_000 }, () => {
  test('a phone that does not allow this server: failed with what to set, sent once', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink', { remoteControl: { allow: '' } });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /does not allow remote control from 127\.0\.0\.1/);
    assert.match(out.reason, /features\.action_uri_limit_ip/);
    assert.equal(web.control.records().length, 1);
    assert.equal(web.control.records()[0].outcome, 'not_allowed');
  });

  test('a wrong password: failed at once saying so, not retried; the phone counted one wrong login', async () => {
    const r = await receiver();
    const { web, mac, phone } = await virtualPhone(r, 'snom');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'wrong' });
    const out = await run(r, mac, { command: 'dial', number: '2001' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /refused the user name or password/);
    assert.match(out.reason, /not retried/);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(web.control.records().length, 1);
    assert.equal(phone.state.calls.length, 0);
  });

  test('a wrong Grandstream passcode: failed with the credentials reason (the passcode is not in the phone\'s log)', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'grandstream');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 's3cret-pass' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /user name or password/);
    assert.equal(web.control.records().length, 1);
    assert.doesNotMatch(web.control.records()[0].request, /s3cret/);
  });

  test('a phone locked after wrong passwords: failed with the lock-out reason', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink');
    // Someone else guessed at the phone from this address until it locked the account.
    const bad = `Basic ${Buffer.from('admin:guess').toString('base64')}`;
    for (let i = 0; i < 10; i++) await fetch(`${web.url}/servlet?key=OK`, { headers: { authorization: bad } });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /locked its admin account/);
  });

  test('an unreachable phone: failed as unreachable, no retry loop', async () => {
    const r = await receiver();
    const { mac } = await virtualPhone(r, 'fanvil');
    await setControl(r, mac, { url: `http://127.0.0.1:${await closedPort()}`, username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'hangup' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /unreachable \(ECONNREFUSED\); not retried/);
  });

  test('a phone that accepts but never reports: accepted, then failed after the timeout naming the missing incident', async () => {
    const r = await receiver({ commandTimeoutMs: 1_000 });
    const { web, mac, phone } = await virtualPhone(r, 'akuvox');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    // Action URL off from here on: the phone obeys but tells nobody.
    phone.setConfig({ ...phone.config, enabled: false });
    const sent = await command(r, mac, { command: 'dial', number: '2001' });
    assert.equal(sent.status, 202);
    const accepted = await finished(r, sent.body.id, ['accepted', 'confirmed', 'failed']);
    assert.equal(accepted.status, 'accepted');
    const out = await finished(r, sent.body.id);
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /accepted the command but its Action URL reported no outgoing_call within 1 s/);
    assert.equal(phone.state.calls.length, 1, 'the phone did dial');
    assert.equal(web.control.records().length, 1);
  });

  test('a phone that asks "Allow remote control?": failed saying so; once the user allows, the next command is confirmed', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink', { remoteControl: { allow: 'any', prompt: true } });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const first = await run(r, mac, { command: 'dnd_on' });
    assert.equal(first.status, 'failed');
    assert.match(first.reason, /Allow remote control\?/);
    assert.match(first.reason, /features\.show_action_uri_option = 0/);
    assert.deepEqual(web.control.pendingPrompts(), ['127.0.0.1']);
    assert.equal(web.control.answerPrompt('127.0.0.1', true), true);
    assert.equal((await run(r, mac, { command: 'dnd_on' })).status, 'confirmed');
  });

  test('pointless and impossible commands fail before anything is sent', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'fanvil');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const hold = await run(r, mac, { command: 'hold' });
    assert.equal(hold.status, 'failed');
    assert.match(hold.reason, /no call in talk to hold; nothing sent/);
    const reboot = await run(r, mac, { command: 'reboot' });
    assert.equal(reboot.status, 'failed');
    assert.match(reboot.reason, /Fanvil phones have no remote reboot command/);
    const letters = await run(r, mac, { command: 'dial', number: 'alice' });
    assert.match(letters.reason, /dial by key presses/);
    assert.equal(web.control.records().length, 0);
  });

  test('bad requests get a one-line 400; an unknown phone 404; an unknown command id 404', async () => {
    const r = await receiver();
    const mac = '001565000077';
    assert.equal((await command(r, mac, { command: 'dial' })).status, 400);
    assert.match((await command(r, mac, { command: 'dial', number: '1 OR 1' })).body.error, /dial: "number"/);
    assert.match((await command(r, mac, { command: 'explode' })).body.error, /"command" must be one of/);
    assert.match((await command(r, mac, { command: 'hangup', numbr: '1' })).body.error, /unexpected field "numbr"/);
    assert.match((await command(r, mac, { command: 'keys', keys: 'OK&reboot=1' })).body.error, /not a key name/);
    assert.equal((await command(r, mac, { command: 'hangup' })).status, 404);
    assert.equal((await r.api('/api/v1/commands/nope')).status, 404);
    const notJson = await r.api(`/api/v1/phones/${mac}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.deepEqual(notJson.body, { error: 'body is not JSON' });
    assert.match((await setControl(r, mac, { url: 'http://admin:pw@10.0.0.1' })).body.error, /not in "url"/);
    assert.match((await setControl(r, mac, { vendor: 'nokia' })).body.error, /"vendor" must be one of/);
    assert.match((await setControl(r, 'zz', { vendor: 'snom' })).body.error, /not a MAC address/);
  });

  test('a phone with no vendor to recognise: the reason says what to set; no address until one is approved', async () => {
    const r = await receiver();
    const mac = '0a0b0c0d0e0f';
    await r.ingest(`/actionurl/registered?mac=${mac}&model=Acme9000`);
    const put = await setControl(r, mac, { url: 'http://127.0.0.1' });
    assert.equal(put.status, 200);
    const out = await run(r, mac, { command: 'hangup' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /cannot tell which vendor made this phone \(model "Acme9000"\): set "vendor"/);
    assert.equal((await r.api(`/api/v1/phones/${mac}/control`, { method: 'DELETE' })).status, 204);
    const vendorOnly = await setControl(r, mac, { vendor: 'snom' });
    // Its events came from 127.0.0.1, which is offered for confirmation, not used.
    assert.equal(vendorOnly.body.effective.url, null);
    assert.equal(vendorOnly.body.effective.vendor, 'snom');
    assert.match(vendorOnly.body.effective.problem, /no approved control address .*control\/confirm \{"address":"127\.0\.0\.1"\}/);
    assert.match((await run(r, mac, { command: 'hangup' })).reason, /^no approved control address/);
    const confirmed = await r.api(`/api/v1/phones/${mac}/control/confirm`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: '127.0.0.1' }),
    });
    assert.equal(confirmed.status, 200);
    assert.deepEqual(confirmed.body.effective, { url: 'http://127.0.0.1', vendor: 'snom' });
    const again = await run(r, mac, { command: 'hangup' });
    assert.match(again.reason, /the phone at http:\/\/127\.0\.0\.1 is unreachable/);
  });

  test('credentials never come back and are not in the database file, its log or the events', async () => {
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
    const r = await receiver({ logger });
    const { web, mac } = await virtualPhone(r, 'yealink');
    const password = 'Pw-6c1f0e9a';
    const put = await setControl(r, mac, { url: web.url, username: 'deskadmin', password });
    assert.equal(put.status, 200);
    assert.doesNotMatch(JSON.stringify(put.body), /Pw-6c1f|deskadmin/);
    const get = await r.api(`/api/v1/phones/${mac}/control`);
    assert.doesNotMatch(JSON.stringify(get.body), /Pw-6c1f|deskadmin/);
    assert.equal(get.body.credentials, 'set');
    await run(r, mac, { command: 'dnd_on' }); // wrong account on the phone: fails, and logs the failure
    const events = await r.api(`/api/v1/events?mac=${mac}`);
    assert.doesNotMatch(JSON.stringify(events.body), /Pw-6c1f|deskadmin/);
    assert.ok(lines.some((l) => l.includes('remote-control command failed')));
    assert.doesNotMatch(lines.join(''), /Pw-6c1f|deskadmin/);
    await r.stop();
    for (const [f, bytes] of storedFiles(r)) {
      assert.equal(bytes.includes(password), false, `${f} holds the password in clear`);
      assert.equal(bytes.includes('deskadmin'), false, `${f} holds the user name in clear`);
    }
    assert.equal(statSync(join(r.dir, 'control.key')).mode & 0o777, 0o600);
  });
});

describe('waiting for a command', { timeout: 120_000 }, () => {
  test('?wait= answers as soon as the command is final; a bad wait is a 400', async () => {
    const r = await receiver({ commandTimeoutMs: 1_500 });
    const { web, mac, phone } = await virtualPhone(r, 'yealink');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    phone.setConfig({ ...phone.config, enabled: false });
    const sent = await command(r, mac, { command: 'dnd_on' });
    const t0 = performance.now();
    const got = await r.api(`/api/v1/commands/${sent.body.id}?wait=10`);
    const waited = performance.now() - t0;
    assert.equal(got.body.status, 'failed');
    assert.ok(waited < 9_000, `answered when the command failed (after ${Math.round(waited)} ms), not after the full wait`);
    assert.match((await r.api(`/api/v1/commands/${sent.body.id}?wait=99`)).body.error, /wait must be seconds from 0 to 20/);
    assert.match((await r.api(`/api/v1/commands/${sent.body.id}?wait=abc`)).body.error, /wait must be/);
  });
});
