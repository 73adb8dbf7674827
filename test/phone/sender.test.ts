import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ResponseReader } from '../../src/phone/sender/response.ts';
import { Sender, Transport, requestBytes, splitUrl, type RequestTarget } from '../../src/phone/sender/index.ts';
import { startCaptureServer } from './capture-server.ts';
import { makeSelfSignedCert } from './tls-fixture.ts';

const target = (url: string) => {
  const t = splitUrl(url);
  if ('error' in t) throw new Error(t.error);
  return t;
};

test('splitting URLs keeps the target raw: spaces, UTF-8, ; and $ untouched', { timeout: 60_000 }, () => {
  const t = target('http://10.0.0.5:8080/actionurl/x?name=Jörg Müller;mac=$mac');
  assert.deepEqual(t, { secure: false, host: '10.0.0.5', port: 8080, hostHeader: '10.0.0.5:8080', target: '/actionurl/x?name=Jörg Müller;mac=$mac' });
  assert.equal(target('https://h.example/').port, 443);
  assert.equal(target('HTTP://h.example').target, '/');
  assert.deepEqual(target('http://[::1]:81/a'), { secure: false, host: '::1', port: 81, hostHeader: '[::1]:81', target: '/a' });
  assert.equal(target('10.0.0.5/mac=$mac&ip=$ip').target, '/mac=$mac&ip=$ip', 'Grandstream omits the scheme');
  assert.equal(target('http://h?x=1').target, '/?x=1');
  assert.equal(target('http://u:p@h/x').userinfo, 'u:p');
  assert.ok('error' in splitUrl('ftp://h/x'));
  assert.ok('error' in splitUrl('http:///x'));
  assert.ok('error' in splitUrl('http://h:99999/x'));
});

test('the request line carries the UTF-8 bytes of the target, unencoded', { timeout: 60_000 }, () => {
  const bytes = requestBytes(target('http://h:1/a?n=Jö rg'), { userAgent: 'T46U' });
  assert.ok(bytes.subarray(0, 20).equals(Buffer.from('GET /a?n=J\xc3\xb6 rg HTTP', 'latin1')));
  assert.match(bytes.toString('latin1'), /\r\nHost: h:1\r\nUser-Agent: T46U\r\nConnection: close\r\n\r\n$/);
  const old = requestBytes(target('http://h:1/a'), { http10: true, noHost: true }).toString('latin1');
  assert.equal(old, 'GET /a HTTP/1.0\r\nConnection: close\r\n\r\n', 'older firmware: HTTP/1.0, no Host');
});

test('responses: length, chunked, until close, interim 100, split across reads', { timeout: 60_000 }, () => {
  const feed = (text: string, split = 3) => {
    const r = new ResponseReader();
    const b = Buffer.from(text);
    let done = false;
    for (let i = 0; i < b.length; i += split) done = r.push(b.subarray(i, i + split)) || done;
    return { r, done };
  };
  const a = feed('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  assert.deepEqual([a.done, a.r.response], [true, { status: 200, close: false }]);
  const c = feed('HTTP/1.1 404 No\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  assert.deepEqual([c.done, c.r.response?.status], [true, 404]);
  const u = feed('HTTP/1.0 200 OK\r\n\r\nbody');
  assert.equal(u.done, false);
  assert.equal(u.r.end(), true);
  assert.equal(u.r.response?.close, true);
  const i = feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 1000);
  assert.deepEqual([i.done, i.r.response?.status], [true, 204]);
  assert.throws(() => new ResponseReader().push(Buffer.from('SSH-2.0-x\r\n\r\n')), /not an HTTP response/);
});

test('a phone\'s requests go one at a time, in the order queued', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer({ delayMs: 5 });
  after(() => server.close());
  const sender = new Sender({ transport: new Transport() });
  const urls = ['a', 'b', 'c', 'd'].map((x) => `${server.base}/${x}?v=${x} ${x}`);
  const ds = await Promise.all(urls.map((u, n) => sender.send(`i${n}`, u)));
  assert.deepEqual(server.targets(), ['/a?v=a a', '/b?v=b b', '/c?v=c c', '/d?v=d d']);
  assert.deepEqual(server.requests.map((r) => r.inFlight), [1, 1, 1, 1]);
  assert.deepEqual(ds.map((d) => [d.seq, d.incident, d.status, d.attempts]), [[1, 'i0', 200, 1], [2, 'i1', 200, 1], [3, 'i2', 200, 1], [4, 'i3', 200, 1]]);
  assert.equal(new Set(server.requests.map((r) => r.connection)).size, 4, 'one connection per request, like firmware');
  assert.equal(sender.deliveries().length, 4);
});

test('no retry by default; with retries, a 5xx or no answer is tried again', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer({ status: (n) => (n <= 1 ? 503 : 200) });
  after(() => server.close());
  const once = await new Sender({ transport: new Transport() }).send('registered', `${server.base}/x`);
  assert.deepEqual([once.status, once.attempts], [503, 1]);
  const retried = await new Sender({ transport: new Transport(), retries: 2, retryDelayMs: 1 }).send('registered', `${server.base}/y`);
  assert.deepEqual([retried.status, retried.attempts], [200, 2]);
  assert.deepEqual(server.targets(), ['/x', '/y', '/y']);
});

test('failures are reported with a reason: refused, timeout, bad URL', { timeout: 60_000 }, async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await new Sender({ transport: new Transport() }).send('hold', `http://127.0.0.1:${port}/x`);
  assert.deepEqual([refused.status, refused.error, refused.attempts], [null, 'ECONNREFUSED', 1]);

  const silent = await startCaptureServer({ silent: true });
  after(() => silent.close());
  const timedOut = await new Sender({ transport: new Transport({ timeoutMs: 100 }) }).send('hold', `${silent.base}/x`);
  assert.deepEqual([timedOut.status, timedOut.error], [null, 'timeout']);

  const bad = await new Sender({ transport: new Transport() }).send('hold', 'gopher://x/');
  assert.match(bad.error ?? '', /^bad_url/);
});

test('HTTPS: trusted through a CA file, refused without it, accepted when told to be insecure', { timeout: 60_000 }, async () => {
  const cert = makeSelfSignedCert();
  after(() => cert.remove());
  const server = await startCaptureServer({ tls: { key: cert.key, cert: cert.cert } });
  after(() => server.close());
  const url = `${server.base}/actionurl/registered?display=Jörg`;
  const trusted = await new Sender({ transport: new Transport({ ca: cert.cert }) }).send('registered', url);
  assert.equal(trusted.status, 200);
  const untrusted = await new Sender({ transport: new Transport() }).send('registered', url);
  assert.equal(untrusted.status, null);
  assert.match(untrusted.error ?? '', /CERT|SELF_SIGNED/);
  const insecure = await new Sender({ transport: new Transport({ insecure: true }) }).send('registered', url);
  assert.equal(insecure.status, 200);
  assert.equal(server.requests.filter((r) => r.target.equals(Buffer.from('/actionurl/registered?display=Jörg'))).length, 2);
});

test('keep-alive transport: requests reuse a few connections and all arrive', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const transport = new Transport({ keepAlive: true, maxSocketsPerOrigin: 2 });
  after(() => transport.close());
  const t: RequestTarget = target(`${server.base}/k`);
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => transport.send(t)));
  assert.ok(outcomes.every((o) => o.status === 200));
  assert.equal(server.requests.length, 20);
  assert.ok(new Set(server.requests.map((r) => r.connection)).size <= 2);
  assert.equal(server.requests[0].headers.connection, 'keep-alive');
});
