/**
 * HTTPS against phones that do not trust the receiver's certificate, clients that never finish a handshake,
 * and TLS sent to the plain-HTTP port: no socket is left behind, shutdown completes, and the TLS attempt on
 * the plain port is answered at once and kept as a rejected request that says what it was.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { startServer, type RunningServer } from '../../src/start.ts';
import { makeSelfSignedCert, type TlsFixture } from '../phone/tls-fixture.ts';
import { until } from '../forwarding/helpers/until.ts';

/** Sockets of the local `port` in CLOSE-WAIT (state 08 in /proc/net/tcp*): the peer left, we did not. */
function closeWait(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hex) && cols[3] === '08') n++;
    }
  }
  return n;
}

/** A phone that checks the certificate against its CA list (the system's): it refuses ours. */
function distrustingClient(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'receiver.example' });
    socket.on('secureConnect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('error', (err) => resolve(err.message));
  });
}

/** Resolves with how long `p` took; rejects when it takes longer than `limitMs` (it hangs). */
async function within<T>(p: Promise<T>, limitMs: number): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${limitMs} ms`)), limitMs)))]);
  clearTimeout(timer);
  return Date.now() - started;
}

/** Resolves once the socket is connected. */
const connected = (socket: net.Socket) => new Promise<void>((resolve) => (socket.connecting ? socket.once('connect', () => resolve()) : resolve()));

describe('HTTPS: failed handshakes and shutdown', { timeout: 60_000 }, () => {
  let cert: TlsFixture;
  before(() => {
    cert = makeSelfSignedCert();
  });
  after(() => cert.remove());

  test('phones that reject the certificate leave no socket in CLOSE-WAIT', async () => {
    const s = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent', tlsCert: cert.cert, tlsKey: cert.key });
    try {
      for (let i = 0; i < 10; i++) assert.match(await distrustingClient(s.port), /self.signed|certificate/i);
      // Closing takes the kernel and the server a moment: wait (bounded) for both to reach zero, then check.
      await until('no socket in CLOSE-WAIT and no open connection', () => closeWait(s.port) === 0 && s.ctx.metrics.connections.get() === 0, 10_000);
      assert.equal(closeWait(s.port), 0);
      assert.equal(s.ctx.metrics.connections.get(), 0);
      // The receiver still serves a phone that does trust it.
      const ok = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port: s.port, host: '127.0.0.1', ca: cert.cert }, () => socket.write('GET /actionurl/registered?mac=001565aabbcc HTTP/1.0\r\n\r\n'));
        let out = '';
        socket.on('data', (c) => (out += c.toString()));
        socket.on('end', () => resolve(out));
        socket.on('error', reject);
      });
      assert.match(ok, /^HTTP\/1\.0 200 OK/);
    } finally {
      await s.close();
    }
  });

  test('shutdown completes within seconds with clients stuck mid-handshake, idle and streaming', async () => {
    const s = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent', tlsCert: cert.cert, tlsKey: cert.key });
    const held: net.Socket[] = [];
    try {
      // Connects and never says a word (no ClientHello); one that sends half a ClientHello; a stream client.
      for (let i = 0; i < 3; i++) held.push(net.connect(s.port, '127.0.0.1'));
      const half = net.connect(s.port, '127.0.0.1');
      const halfSent = new Promise((r) => half.once('connect', () => half.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), r)));
      held.push(half);
      const streaming = tls.connect({ port: s.port, host: '127.0.0.1', ca: cert.cert }, () => streaming.write('GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      await new Promise((r) => streaming.once('data', r));
      for (const h of held) h.on('error', () => {});
      for (const dead of await Promise.all([1, 2].map(() => distrustingClient(s.port)))) assert.notEqual(dead, 'accepted');
      // Every stuck client is connected and the half ClientHello is out before the shutdown starts.
      await Promise.all([...held.map(connected), halfSent]);
      const ms = await within(s.close(), 10_000);
      assert.ok(ms < 10_000);
      streaming.destroy();
    } finally {
      for (const h of held) h.destroy();
    }
  });
});

describe('TLS on the plain-HTTP port', { timeout: 30_000 }, () => {
  let s: RunningServer;
  before(async () => {
    s = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent' });
  });
  after(() => s.close());

  test('a ClientHello is answered at once and kept as a rejected request that says what it was', async () => {
    const failure = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false });
      socket.on('secureConnect', () => resolve('handshake succeeded?'));
      socket.on('error', (err) => resolve(err.message));
    });
    // The client's TLS library reads our plain-text answer as a broken record, not a timeout.
    assert.doesNotMatch(failure, /timeout|ETIMEDOUT/i);
    const raw = await new Promise<string>((resolve) => {
      const socket = net.connect(s.port, '127.0.0.1', () => socket.write(Buffer.from('16030100c8010000c40303', 'hex')));
      let out = '';
      socket.on('data', (c) => (out += c.toString('latin1')));
      socket.on('close', () => resolve(out));
    });
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(raw, /TLS handshake on plain HTTP port: use http:\/\/ here, or serve HTTPS with --tls-cert\n$/);
    const res = await fetch(`${s.url}/api/v1/rejected`);
    const rows = (await res.json()) as { rejected: { reason: string; raw: string; status: number }[] };
    const tlsRows = rows.rejected.filter((r) => r.reason === 'TLS handshake on plain HTTP port');
    assert.equal(tlsRows.length, 2);
    for (const r of tlsRows) {
      assert.equal(r.status, 400);
      assert.equal(r.raw, '', 'no binary handshake bytes stored');
    }
    assert.equal(closeWait(s.port), 0);
  });
});
