/**
 * The PostgreSQL store against a real server (ACTIONURL_TEST_PG, default postgres://postgres@127.0.0.1:5432/test),
 * each test in a schema of its own that is dropped afterwards.
 */
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.ts';
import { openStore, StoreConfigError } from '../../src/store/open.ts';
import { startServer } from '../../src/start.ts';
import { sendRaw } from '../server/helpers/raw-client.ts';
import type { NewEvent } from '../../src/store/types.ts';
import { connectOptionalAdmin, PG_BASE, testSchema } from './pg-optional.ts';
import type { CallState } from '../../src/domain/types.ts';

const BASE = PG_BASE;

let admin: pg.Client | undefined;
let available = true;
before(async () => {
  admin = await connectOptionalAdmin();
  available = admin !== undefined;
});
after(() => admin?.end());

const schemas: string[] = [];
function freshUrl(): string {
  const schema = testSchema();
  schemas.push(schema);
  return `${BASE}?schema=${schema}`;
}
afterEach(async () => {
  for (const s of schemas.splice(0)) await admin?.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
});

function event(mac: string, incident: string, at: number, vars: Record<string, string> = {}): NewEvent {
  return { receivedAt: at, mac, incident, vars: { mac, ...vars }, extra: { seq: String(at) }, rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}&x=\u00ff`, 'latin1'), sourceIp: '10.0.0.9' };
}

function call(callId: string, startedAt: number, over: Partial<CallState> = {}): CallState {
  return {
    callId, direction: 'incoming', remote: 'sip:200@pbx', displayRemote: 'Jörg\u0000Müller', local: 'sip:100@pbx', phase: 'ringing',
    outcome: 'ongoing', muted: false, startedAt, answeredAt: null, endedAt: null, lastEventId: 1, ...over,
  };
}

describe('PostgreSQL store', { timeout: 120_000 }, () => {
  let store: PostgresStore;
  beforeEach(async () => {
    // Each test skips itself (with the reason) when there is no server.
    if (available) store = await PostgresStore.connect(freshUrl());
  });
  afterEach(() => store?.close());

  test('events keep their ids, order, fields and bytes; filters and the id cursor work', async (t) => {
    if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
    const events: NewEvent[] = [];
    for (let i = 0; i < 12; i++) events.push(event(i % 2 ? 'aa0000000001' : 'aa0000000002', i % 3 ? 'hold' : 'unhold', 1000 + i, { call_id: String(i % 4), display_remote: 'a\u0000b' }));
    const stored = await store.write({ events, rejected: [] });
    assert.deepEqual(stored.map((e) => e.extra.seq), events.map((e) => e.extra.seq));
    assert.deepEqual(stored.map((e) => e.id), [...stored.map((e) => e.id)].sort((a, b) => a - b));
    const back = await store.events({ limit: 100 });
    assert.equal(back.length, 12);
    assert.equal(back[0].id, stored[11].id);
    assert.deepEqual(back[0].rawTarget, events[11].rawTarget);
    assert.equal(back[0].vars.display_remote, 'a\u0000b');
    assert.equal((await store.events({ mac: 'aa0000000001', limit: 100 })).length, 6);
    assert.equal((await store.events({ incident: 'unhold', limit: 100 })).length, 4);
    assert.equal((await store.events({ callId: '1', limit: 100 })).length, 3);
    assert.equal((await store.events({ since: 1009, limit: 100 })).length, 3);
    const page = await store.events({ limit: 5, before: back[4].id });
    assert.deepEqual(page.map((e) => e.id), back.slice(5, 10).map((e) => e.id));
    assert.deepEqual((await store.eventsAfter(stored[9].id, 10)).map((e) => e.id), [stored[10].id, stored[11].id]);
  });

  test('phones, calls and the state checkpoint; a call is updated in place', async (t) => {
    if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
    // An event that opens no call: the calls below are the only ones.
    const [e] = await store.write({ events: [event('aa0000000001', 'registered', 5)], rejected: [] });
    const phone = { mac: 'aa0000000001', ip: '10.0.0.9', model: 'T46S', firmware: '1', accounts: [], registered: true, dnd: true,
      forward: { always: false, busy: false, no_answer: false }, muted: false, offHook: false, busy: false, calls: [], presence: 'dnd' as const,
      firstSeen: 1, lastSeen: 5, lastEventId: e.id };
    await store.write({ events: [], rejected: [], phones: [phone], calls: [{ mac: phone.mac, call: call('1', 5) }], stateEventId: e.id });
    await store.write({ events: [], rejected: [], calls: [{ mac: phone.mac, call: call('1', 5, { outcome: 'answered', answeredAt: 6, endedAt: 9 }) }] });
    assert.deepEqual((await store.loadPhones()).map((p) => [p.mac, p.dnd]), [['aa0000000001', true]]);
    assert.equal(await store.stateCheckpoint(), e.id);
    const calls = await store.calls({ limit: 10 });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].call.outcome, 'answered');
    assert.equal(calls[0].call.displayRemote, 'Jörg\u0000Müller');
    assert.equal((await store.calls({ outcome: 'missed', limit: 10 })).length, 0);
  });

  test('a failed batch stores nothing, and later writes still work', async (t) => {
    if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
    await assert.rejects(store.write({ events: [event('aa0000000001', 'hold', 1)], rejected: [], calls: [{ mac: null as unknown as string, call: call('1', 1) }] }));
    assert.equal((await store.counts()).events, 0);
    await store.write({ events: [event('aa0000000001', 'hold', 2)], rejected: [] });
    assert.equal((await store.counts()).events, 1);
  });

  test('a setting is written, replaced and removed; another connection to the schema reads it', async (t) => {
    if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
    assert.equal(await store.setting('forwarding.disabled.crm'), undefined);
    await store.putSetting('forwarding.disabled.crm', 'first');
    await store.putSetting('forwarding.disabled.crm', 'second\u0000x');
    const url = `${BASE}?schema=${schemas[schemas.length - 1]}`;
    const other = await PostgresStore.connect(url);
    try {
      assert.equal(await other.setting('forwarding.disabled.crm'), await store.setting('forwarding.disabled.crm'));
      assert.match((await other.setting('forwarding.disabled.crm'))!, /^second/);
      await other.putSetting('forwarding.disabled.crm', null);
    } finally {
      await other.close();
    }
    assert.equal(await store.setting('forwarding.disabled.crm'), undefined);
  });

  test('retention prunes old rows in batches, and ids are never reused', async (t) => {
    if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
    const first = await store.write({ events: [1, 2, 3].map((n) => event('aa0000000001', 'hold', n)), rejected: [] });
    assert.equal(await store.prune(10, 2), 2);
    assert.equal(await store.prune(10, 2), 1);
    assert.equal(await store.lastEventId(), first[2].id);
    const next = await store.write({ events: [event('aa0000000001', 'hold', 20)], rejected: [] });
    assert.ok(next[0].id > first[2].id);
  });
});

test('--db postgres:// that cannot be reached is a one-line error without the password', { timeout: 60_000 }, async () => {
  await assert.rejects(openStore('postgres://u:secret@127.0.0.1:1/none'), (err: Error) => err instanceof StoreConfigError && !err.message.includes('secret'));
});

test('the receiver on PostgreSQL stores each phone\'s state with its events: a receiver started after a crash has it', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
  const db = freshUrl();
  const s1 = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent', stateFlushMs: 60_000 });
  const send = async (port: number, target: string) =>
    (await sendRaw(port, `GET ${target} HTTP/1.1\r\nConnection: close\r\n\r\n`)).responses[0].status;
  assert.equal(await send(s1.port, '/actionurl/registered?mac=001565aabbcc&model=T54W'), 200);
  assert.equal(await send(s1.port, '/actionurl/incoming_call?mac=001565aabbcc&call_id=2&display_remote=Ann Lee'), 200);
  // No checkpoint ran (stateFlushMs 60 s): the phone row was written in the events' transactions.
  await s1.ctx.commits.flush();
  const store = s1.ctx.store;
  assert.equal((await store.counts()).phones, 1);
  assert.equal((await store.counts()).calls, 1);
  await (s1.ctx.store as PostgresStore).close();
  const s2 = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    const phone = s2.ctx.phones.get('001565aabbcc');
    assert.equal(phone?.model, 'T54W');
    assert.equal(phone?.presence, 'ringing');
    assert.equal((await s2.ctx.store.counts()).phones, 1);
  } finally {
    await s2.close();
  }
  // The first server's sockets still need closing; its store is gone, which it must tolerate.
  await s1.close().catch(() => {});
});

test('receivers sharing a PostgreSQL database share the generated admin token', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip(`no PostgreSQL at ${BASE}`);
  const url = freshUrl();
  const a = await startServer({ db: url, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  const b = await startServer({ db: url, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    const token = a.ctx.settings.adminToken;
    assert.ok(token && token.length >= 40);
    assert.equal(b.ctx.settings.adminToken, token);
    const stored = await admin!.query(`SELECT value FROM ${new URL(url).searchParams.get('schema')}.settings WHERE key = 'admin_token'`);
    assert.equal(stored.rows[0].value, token);
  } finally {
    await a.close();
    await b.close();
  }
});
