import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { startTestReceiver } from './helpers/receiver.ts';
import { makeSelfSignedCert } from '../phone/tls-fixture.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** A socket from a given source address; resolves once connected (or with the error). */
function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** What one request on that socket gets: the answer's status line, or 'closed' when the server closed without one. */
function ask(socket: net.Socket, target = '/healthz'): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text === '' ? 'closed' : text.split('\r\n')[0]));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('one source address gets at most --max-connections-per-address open connections; more are closed and counted, other addresses are served', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ maxConnectionsPerAddress: 5, limitLoopbackConnections: true });
  const metrics = r.server.ctx.metrics;
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) held.push(await connectFrom(r.port, '127.0.0.1'));
    for (let i = 0; i < 200 && metrics.connections.get() !== 5; i++) await sleep(10);
    assert.equal(metrics.connections.get(), 5);

    const sixth = await connectFrom(r.port, '127.0.0.1');
    assert.equal(await ask(sixth), 'closed');
    assert.equal(metrics.connectionsRefused.get(), 1);
    assert.match(await metrics.registry.render(), /actionurl_connections_refused_total 1\b/);
    assert.equal(metrics.connections.get(), 5, 'the refused socket never became a connection');

    // Another address is not held back by the first one's connections.
    assert.match(await ask(await connectFrom(r.port, '127.0.0.2')), /^HTTP\/1\.1 200 /);
    assert.match(await ask(await connectFrom(r.port, '127.0.0.2'), '/actionurl/registered?mac=001565000051'), /^HTTP\/1\.1 200 /);
    // And the connections the first address has keep working.
    assert.match(await ask(held.pop()!), /^HTTP\/1\.1 200 /);
    // One of them closed: room for a new one from that address.
    for (let i = 0; i < 200 && metrics.connections.get() !== 4; i++) await sleep(10);
    assert.match(await ask(await connectFrom(r.port, '127.0.0.1')), /^HTTP\/1\.1 200 /);
    assert.equal(metrics.connectionsRefused.get(), 1);
  } finally {
    for (const s of held) s.destroy();
    await r.cleanup();
  }
});

test('by default this machine\'s own addresses are not limited (a reverse proxy on the same machine)', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ maxConnectionsPerAddress: 2 });
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 6; i++) held.push(await connectFrom(r.port, '127.0.0.1'));
    const answers = await Promise.all(held.map((s) => ask(s)));
    assert.deepEqual(answers.map((a) => a.slice(0, 13)), Array(6).fill('HTTP/1.1 200 '));
    assert.equal(r.server.ctx.metrics.connectionsRefused.get(), 0);
  } finally {
    for (const s of held) s.destroy();
    await r.cleanup();
  }
});

test('over HTTPS the limit holds before the handshake, and the receiver keeps serving', { timeout: 60_000 }, async () => {
  const cert = makeSelfSignedCert();
  const r = await startTestReceiver({ maxConnectionsPerAddress: 2, limitLoopbackConnections: true, tlsCert: cert.cert, tlsKey: cert.key });
  const held: tls.TLSSocket[] = [];
  const handshake = (localAddress: string) =>
    new Promise<tls.TLSSocket | 'closed'>((resolve) => {
      const raw = net.connect({ port: r.port, host: '127.0.0.1', localAddress });
      raw.on('error', () => {});
      const s = tls.connect({ socket: raw, rejectUnauthorized: false });
      s.once('secureConnect', () => resolve(s));
      s.once('error', () => resolve('closed'));
      s.once('close', () => resolve('closed'));
    });
  try {
    for (let i = 0; i < 2; i++) {
      const s = await handshake('127.0.0.1');
      assert.notEqual(s, 'closed');
      held.push(s as tls.TLSSocket);
    }
    assert.equal(await handshake('127.0.0.1'), 'closed');
    assert.equal(r.server.ctx.metrics.connectionsRefused.get(), 1);
    const other = await handshake('127.0.0.2');
    assert.notEqual(other, 'closed');
    assert.match(await ask(other as tls.TLSSocket), /^HTTP\/1\.1 200 /);
    assert.match(await ask(held.pop()!), /^HTTP\/1\.1 200 /);
  } finally {
    for (const s of held) s.destroy();
    await r.cleanup();
    cert.remove();
  }
});
