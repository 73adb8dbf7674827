/**
 * Over real sockets, a receiver and virtual phones that ask for more than the plain case: a Snom phone set
 * to HTTP Digest (SHA-256 and MD5, or MD5 only), and a Yealink phone on older firmware that serves its key
 * endpoint only under /cgi-bin/ConfigManApp.com. The phone's own request log shows what arrived, in order.
 */
import { after, describe, test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { controlAuthOf } from '../../src/phone/control/remote.ts';
import { receiver, run, setControl, virtualPhone } from './helpers.ts';

const digest = (choice: 'digest' | 'digest-md5') => ({ allow: '127.0.0.1', auth: controlAuthOf(choice) });

describe('HTTP Digest (a Snom phone set to it)', { timeout: 120_000 }, () => {
  test('SHA-256 offered: the first command answers the challenge; later ones send no Basic password at all', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'snom', { remoteControl: digest('digest') });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const dial = await run(r, mac, { command: 'dial', number: '2001' });
    assert.equal(dial.status, 'confirmed', dial.reason);
    const hangup = await run(r, mac, { command: 'hangup' });
    assert.equal(hangup.status, 'confirmed', hangup.reason);
    const log = web.control.records().map((x) => `${x.auth} ${x.outcome}`);
    // The first request went with Basic (the receiver did not know yet), was challenged, and answered.
    assert.deepEqual(log, ['Basic credentials', 'Digest SHA-256 done', 'none credentials', 'Digest SHA-256 done']);
    // Answering a challenge is not a wrong password: nothing counted against the receiver's address.
    assert.equal(web.auth.retryAfter('127.0.0.1'), 0);
    assert.equal(web.auth.throttle.retryAfter('127.0.0.1', Date.now()), 0);
  });

  test('MD5 only (older firmware): answered with MD5 and confirmed', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'snom', { remoteControl: digest('digest-md5') });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'confirmed', out.reason);
    assert.deepEqual(web.control.records().map((x) => x.auth), ['Basic', 'Digest MD5']);
  });

  test('a wrong password over Digest: failed with the credentials reason after one answered challenge; not retried', async () => {
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
    const r = await receiver({ logger });
    const { web, mac } = await virtualPhone(r, 'snom', { remoteControl: digest('digest') });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'Wr0ng-4f2a' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /refused the user name or password/);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(web.control.records().map((x) => `${x.auth} ${x.outcome}`), ['Basic credentials', 'Digest SHA-256 credentials']);
    assert.doesNotMatch(lines.join(''), /Wr0ng-4f2a/);
  });

  test('a phone set back from Digest to Basic: its Basic challenge is answered with Basic', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'snom', { remoteControl: digest('digest') });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    assert.equal((await run(r, mac, { command: 'dnd_on' })).status, 'confirmed');
    (web.control as { httpAuth: unknown }).httpAuth = { scheme: 'basic' };
    const out = await run(r, mac, { command: 'dnd_off' });
    assert.equal(out.status, 'confirmed', out.reason);
    assert.deepEqual(web.control.records().slice(2).map((x) => `${x.auth} ${x.outcome}`), ['none credentials', 'Basic done']);
  });
});

describe('older Yealink firmware', { timeout: 120_000 }, () => {
  test('404 on /servlet: asked once on /cgi-bin/ConfigManApp.com, and that path is remembered for the phone', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink', { remoteControl: { allow: '127.0.0.1', olderFirmware: true } });
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const first = await run(r, mac, { command: 'dnd_on' });
    assert.equal(first.status, 'confirmed', first.reason);
    const second = await run(r, mac, { command: 'dnd_off' });
    assert.equal(second.status, 'confirmed', second.reason);
    const paths = web.control.records().map((x) => `${x.request.split('?')[0]} ${x.outcome}`);
    assert.deepEqual(paths, ['/servlet unknown_request', '/cgi-bin/ConfigManApp.com done', '/cgi-bin/ConfigManApp.com done']);
  });

  test('current firmware is asked on /servlet only; a request the phone does not know is not retried elsewhere', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    assert.equal((await run(r, mac, { command: 'dnd_on' })).status, 'confirmed');
    // An unknown key is a 400 from the phone: a refusal of the request, not of the path.
    const out = await run(r, mac, { command: 'keys', keys: 'NO_SUCH_KEY' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /does not know this request/);
    assert.deepEqual(web.control.records().map((x) => x.request.split('?')[0]), ['/servlet', '/servlet']);
  });

  test('a phone answering 404 on every path: one fallback per command, then the reason; the next command starts where the last ended', async () => {
    const r = await receiver();
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(new URL(req.url ?? '/', 'http://x').pathname);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    after(() => new Promise<void>((res) => server.close(() => res())));
    const mac = '001565abcdef';
    await setControl(r, mac, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, vendor: 'yealink', username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /does not know this request/);
    assert.deepEqual(paths, ['/servlet', '/cgi-bin/ConfigManApp.com']);
    await run(r, mac, { command: 'dnd_off' });
    assert.deepEqual(paths.slice(2), ['/cgi-bin/ConfigManApp.com', '/cgi-bin/cgiServer.exx']);
  });
});
