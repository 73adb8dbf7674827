import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { StoredEvent, WriteBatch } from '../../src/store/types.ts';
import { startServer } from '../../src/start.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { until } from '../forwarding/helpers/until.ts';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A store whose commits wait until the test lets them through, or fail on demand. */
class GatedStore extends SqliteStore {
  gate: Promise<void> = Promise.resolve();
  fail = false;
  writes = 0;
  override async write(batch: WriteBatch): Promise<StoredEvent[]> {
    await this.gate;
    this.writes++;
    if (this.fail) throw new Error('disk full');
    return super.write(batch);
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('the 200 is sent only after the transaction holding the event committed', { timeout: 60_000 }, async () => {
  const store = new GatedStore(':memory:');
  let open!: () => void;
  store.gate = new Promise((r) => (open = r));
  const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    const socket = net.connect(server.port, '127.0.0.1');
    let answered = '';
    socket.on('data', (c) => (answered += c.toString()));
    socket.write('GET /actionurl/dnd_on?mac=001565aabbcc HTTP/1.1\r\n\r\n');
    // The commit is held: the request has been handled as far as it can go, and no answer left.
    while (server.ctx.commits.waiting === 0 && store.writes === 0) await tick();
    // An answer that is not there cannot be waited for: this gives a wrongly early one time to arrive.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, '');
    assert.equal((await store.counts()).events, 0);
    open();
    await until('the phone is answered', () => answered.includes('\r\n\r\nOK'));
    assert.match(answered, /^HTTP\/1\.1 200 /);
    assert.equal((await store.counts()).events, 1);
    socket.destroy();
  } finally {
    await server.close();
  }
});

test('when the commit fails the phone gets a 503 and nothing changes or is published', { timeout: 60_000 }, async () => {
  const store = new GatedStore(':memory:');
  const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    const published: unknown[] = [];
    server.ctx.bus.subscribe((m) => published.push(m));
    store.fail = true;
    const { responses } = await sendRaw(server.port, 'GET /actionurl/dnd_on?mac=001565aabbcc HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(responses[0].status, 503);
    assert.equal(server.ctx.phones.get('001565aabbcc'), undefined);
    assert.equal(published.length, 0);
    assert.equal(server.ctx.metrics.commitErrors.get(), 1);
    store.fail = false;
    const ok = await sendRaw(server.port, 'GET /actionurl/dnd_on?mac=001565aabbcc HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(ok.responses[0].status, 200);
    assert.equal(server.ctx.phones.get('001565aabbcc')?.dnd, true);
    assert.equal(published.length, 1);
  } finally {
    await server.close();
  }
});

test('closing the receiver commits and answers requests already waiting', { timeout: 60_000 }, async () => {
  const store = new GatedStore(':memory:');
  let open!: () => void;
  store.gate = new Promise((r) => (open = r));
  const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  const pending = sendRaw(server.port, 'GET /actionurl/dnd_off?mac=001565aabbcc HTTP/1.1\r\n\r\n', { expect: 1 });
  while (store.writes === 0 && server.ctx.commits.waiting === 0) await tick();
  const closing = server.close();
  open();
  const { responses } = await pending;
  await closing;
  assert.equal(responses[0].status, 200);
});

test('phone states and calls lost in a crash are rebuilt from the stored events at start-up', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-recover-'));
  const db = join(dir, 'db.sqlite');
  try {
    // Events as the receiver stores them, but no state checkpoint after them: as if it died right after.
    const store = new SqliteStore(db);
    const mac = '001565aabbcc';
    const event = (incident: string, at: number, vars: Record<string, string> = {}) => ({
      receivedAt: at, mac, incident, vars: { mac, ...vars }, extra: {}, rawTarget: Buffer.from('/'), sourceIp: '10.0.0.9',
    });
    await store.write({
      events: [
        event('registered', 1000, { model: 'T46S' }),
        event('incoming_call', 2000, { call_id: '4', display_remote: 'Ann Lee' }),
        event('call_established', 3000, { call_id: '4' }),
        event('dnd_on', 4000),
      ],
      rejected: [],
    });
    await store.close();

    const server = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      const phone = server.ctx.phones.get(mac)!;
      assert.equal(phone.model, 'T46S');
      assert.equal(phone.dnd, true);
      assert.equal(phone.presence, 'talking');
      assert.equal(phone.calls[0].displayRemote, 'Ann Lee');
      assert.equal(server.ctx.mode.unsavedState, 0);
      assert.equal(await server.ctx.store.stateCheckpoint(), await server.ctx.store.lastEventId());
      const [call] = await server.ctx.store.calls({ mac, limit: 5 });
      assert.equal(call.call.answeredAt, 3000);
    } finally {
      await server.close();
    }
    // A second start has nothing to replay and the same state.
    const again = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      assert.equal(again.ctx.phones.get(mac)?.presence, 'talking');
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a call that stays silent is closed by the clock and the phone goes back to idle', { timeout: 60_000 }, async () => {
  let clock = 1_000_000;
  const server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent', now: () => clock, callTimeoutMs: 60_000 });
  try {
    const published: string[] = [];
    server.ctx.bus.subscribe((m) => published.push(m.type));
    await sendRaw(server.port, 'GET /actionurl/call_established?mac=001565aabbcc&call_id=1 HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(server.ctx.phones.get('001565aabbcc')?.presence, 'talking');
    clock += 61_000;
    assert.equal(await server.ctx.mode.expireCalls(clock, 60_000), 1);
    const phone = server.ctx.phones.get('001565aabbcc')!;
    assert.equal(phone.calls.length, 0);
    assert.equal(phone.presence, 'idle');
    await server.ctx.mode.flushState();
    const [call] = await server.ctx.store.calls({ limit: 1 });
    assert.equal(call.call.endedBy, 'timeout');
    assert.deepEqual(published, ['event', 'phone']);
  } finally {
    await server.close();
  }
});

test('--retention deletes events older than the span, and keeps the phones', { timeout: 60_000 }, async () => {
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const server = await startServer({
    db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent', now: () => clock, retention: '7d', retentionEveryMs: 20,
  });
  try {
    const send = (target: string) => sendRaw(server.port, `GET ${target} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    await send('/actionurl/dnd_on?mac=001565aabbcc');
    clock += 8 * 86_400_000;
    await send('/actionurl/dnd_off?mac=001565aabbcc');
    await until('the old event is deleted', async () => (await server.ctx.store.counts()).events <= 1);
    const [left] = await server.ctx.store.events({ limit: 10 });
    assert.equal(left.incident, 'dnd_off');
    assert.equal(server.ctx.phones.get('001565aabbcc')?.dnd, false);
    assert.ok(server.ctx.metrics.pruned.get() >= 1);
  } finally {
    await server.close();
  }
});
