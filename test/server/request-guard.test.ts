/**
 * Only the admin acts: what a page on another site, a page on another port of this machine, a name
 * re-pointed at 127.0.0.1 (DNS rebinding) and a token guesser can do against the API, as they would try it.
 * Every change endpoint the OpenAPI document lists is tried.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { changeRefusal, OwnHostNames } from '../../src/server/request-guard.ts';
import { openApiDocument } from '../../src/server/api/openapi.ts';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { describeEachStore } from '../stores.ts';
import { sendRaw } from './helpers/raw-client.ts';

const MAC = '001565aabb01';

/** Each change endpoint with its path filled in and a body it would accept. */
const CHANGES: Array<{ method: string; path: string; body?: string; type?: string }> = [
  { method: 'POST', path: '/api/v1/deliveries/1/retry' },
  { method: 'POST', path: '/api/v1/destinations/webhook1/test' },
  { method: 'POST', path: '/api/v1/destinations/webhook1/enable' },
  { method: 'POST', path: `/api/v1/phones/${MAC}/commands`, body: '{"command":"dial","number":"2001"}' },
  { method: 'POST', path: `/api/v1/phones/${MAC}/control/confirm`, body: '{"address":"127.0.0.1"}' },
  { method: 'PUT', path: `/api/v1/phones/${MAC}/control`, body: '{"url":"http://127.0.0.1:1/"}' },
  { method: 'DELETE', path: `/api/v1/phones/${MAC}/control` },
  { method: 'PATCH', path: `/api/v1/phones/${MAC}`, body: '{"name":"pwned"}' },
  { method: 'DELETE', path: `/api/v1/phones/${MAC}` },
  { method: 'POST', path: '/api/v1/inventory', body: 'mac,name\n001565aabb01,pwned\n', type: 'text/csv' },
];

test('every change endpoint in the OpenAPI document is among those tried here', { timeout: 10_000 }, () => {
  const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const tried = new Set(CHANGES.map((c) => `${c.method} ${c.path.replace(MAC, '{mac}').replace('/1/', '/{id}/').replace('webhook1', '{name}')}`));
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/')) continue;
    for (const method of Object.keys(ops)) {
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      assert.ok(tried.has(`${method.toUpperCase()} ${path}`), `${method.toUpperCase()} ${path} is not tried`);
    }
  }
});

test('changeRefusal: cross-site and same-site-foreign browsers refused; a simple POST refused; scripts and our pages pass', { timeout: 10_000 }, () => {
  const host = { host: '127.0.0.1:8080' };
  assert.match(changeRefusal('POST', { ...host, origin: 'http://evil.example', 'content-type': 'application/json' })!, /another site/);
  assert.match(changeRefusal('DELETE', { ...host, 'sec-fetch-site': 'cross-site' })!, /another site/);
  // A page on another port of the same machine is "same-site", not "same-origin".
  assert.match(changeRefusal('POST', { ...host, 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:9999', 'content-type': 'application/json' })!, /another site/);
  for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'TEXT/PLAIN;charset=utf-8']) {
    assert.match(changeRefusal('POST', { ...host, ...(type ? { 'content-type': type } : {}) })!, /Content-Type: application\/json/, String(type));
  }
  assert.equal(changeRefusal('POST', { ...host, 'content-type': 'application/json' }), undefined);
  assert.equal(changeRefusal('POST', { ...host, authorization: 'Bearer t' }), undefined);
  assert.equal(changeRefusal('POST', { ...host, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8080', 'content-type': 'text/csv' }), undefined);
  assert.equal(changeRefusal('DELETE', host), undefined);
  assert.equal(changeRefusal('GET', { ...host, 'sec-fetch-site': 'cross-site' }), undefined);
});

test('OwnHostNames: addresses, localhost and the given names pass; any other name is refused', { timeout: 10_000 }, () => {
  const own = new OwnHostNames(['recv.lan', 'Phones.Example.com']);
  for (const h of ['127.0.0.1:8080', '[::1]:8080', '192.168.1.5', 'localhost:8080', 'app.localhost', 'recv.lan:8080', 'phones.example.com.', 'PHONES.example.com:443', undefined, '']) {
    assert.equal(own.allows(h), true, String(h));
  }
  for (const h of ['evil.example', 'evil.example:8080', 'recv.lan.evil.example', '127.0.0.1.nip.io:8080', 'localhost.evil.example']) {
    assert.equal(own.allows(h), false, h);
  }
  assert.match(own.refusal('evil.example:8080')!, /does not answer to the name evil\.example; .*--allowed-host evil\.example/);
});

describeEachStore('the API against pages that are not the admin\'s', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, allowedHosts: ['recv.lan'] });
    assert.equal((await r.ingest(`/actionurl/registered?mac=${MAC}`)).status, 200);
  });
  after(() => r.cleanup());

  const send = (c: (typeof CHANGES)[number], headers: Record<string, string>) =>
    r.api(c.path, { method: c.method, headers, ...(c.body !== undefined ? { body: c.body } : {}) });

  test('every change from a page on another site or another port of this machine is refused, and changes nothing', async () => {
    for (const c of CHANGES) {
      const type = c.type ?? 'application/json';
      for (const headers of [
        { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': type },
        { Origin: `http://127.0.0.1:${r.port + 1}`, 'Sec-Fetch-Site': 'same-site', 'Content-Type': type },
      ]) {
        const res = await send(c, headers);
        assert.equal(res.status, 403, `${c.method} ${c.path} from ${headers.Origin}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error, /another site/);
      }
    }
    const phone = await r.api(`/api/v1/phones/${MAC}`);
    assert.equal(phone.status, 200, 'the phone was not forgotten');
    assert.notEqual(phone.body.name, 'pwned');
  });

  test('a POST in a shape a form can send (no content type, text/plain, a form) is refused, even with no Origin', async () => {
    for (const c of CHANGES.filter((x) => x.method === 'POST')) {
      for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
        const res = await r.api(c.path, { method: 'POST', ...(type ? { headers: { 'Content-Type': type } } : {}), body: c.body ?? '' });
        assert.equal(res.status, 403, `${c.path} as ${type}`);
        assert.match(res.body.error, /Content-Type: application\/json/);
      }
    }
  });

  test('a name re-pointed at this machine (DNS rebinding) reads and changes nothing; the receiver\'s own names work; phones are not affected', async () => {
    const raw = async (method: string, path: string, host: string) =>
      (await sendRaw(r.port, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`)).responses[0];
    for (const [method, path] of [['GET', '/api/v1/events'], ['GET', '/api/v1/calls'], ['GET', '/'], ['DELETE', `/api/v1/phones/${MAC}`]]) {
      const res = await raw(method, path, `rebind.evil.example:${r.port}`);
      assert.equal(res.status, 421, `${method} ${path}`);
      assert.match(res.body.toString(), /does not answer to the name rebind\.evil\.example/);
    }
    assert.equal((await raw('GET', '/api/v1/events', `recv.lan:${r.port}`)).status, 200);
    assert.equal((await raw('GET', '/api/v1/events', `localhost:${r.port}`)).status, 200);
    // Phones send whatever Host they were configured with: ingest takes it.
    assert.equal((await raw('GET', `/actionurl/dnd_on?mac=${MAC}`, 'whatever.example')).status, 200);
    assert.equal((await r.api(`/api/v1/phones/${MAC}`)).status, 200, 'the phone was not forgotten');
  });
});

describeEachStore('guessing the admin token', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, adminToken: 'the-right-admin-token' });
  });
  after(() => r.cleanup());

  test('wrong Bearer tokens are slowed per source after a few tries; the answer says "not accepted", not "required"', async () => {
    const first = await r.api('/api/v1/phones', { headers: { Authorization: 'Bearer wrong' } });
    assert.equal(first.status, 401);
    assert.match(first.body.error, /not accepted/);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await r.api('/api/v1/phones', { headers: { Authorization: `Bearer guess-${i}` } })).status);
    assert.ok(statuses.includes(429), `no 429 in ${statuses.join(',')}`);
    const blocked = statuses.filter((s) => s === 429).length;
    assert.ok(blocked >= 15, `only ${blocked} of 30 guesses slowed`);
    const last = await r.api('/api/v1/phones', { headers: { Authorization: 'Bearer guess-x' } });
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    // Blocked means blocked: even the right token waits, so a guess that hits cannot be told apart.
    assert.equal((await r.api('/api/v1/phones', { headers: { Authorization: 'Bearer the-right-admin-token' } })).status, 429);
  });
});
