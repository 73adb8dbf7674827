import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { openStore, StoreConfigError } from '../../src/store/open.ts';
import { MIGRATIONS } from '../../src/store/sqlite-schema.ts';
import type { NewEvent } from '../../src/store/types.ts';
import type { CallState, PhoneState } from '../../src/domain/types.ts';
import { initialPhoneState } from '../../src/domain/reduce.ts';

let dir: string;
let file: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'actionurl-store-'));
  file = join(dir, 'sub', 'db.sqlite');
  store = new SqliteStore(file);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function event(mac: string, incident: string, at: number, vars: Record<string, string> = {}): NewEvent {
  return {
    receivedAt: at,
    mac,
    incident,
    vars: { mac, ...vars },
    extra: {},
    rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`),
    sourceIp: '10.0.0.9',
  };
}

function call(callId: string, startedAt: number, over: Partial<CallState> = {}): CallState {
  return {
    callId,
    direction: 'incoming',
    remote: 'sip:200@pbx',
    displayRemote: 'Jörg Müller',
    local: 'sip:100@pbx',
    phase: 'ringing',
    outcome: 'ongoing',
    muted: false,
    startedAt,
    answeredAt: null,
    endedAt: null,
    lastEventId: 1,
    ...over,
  };
}

function phone(mac: string, lastEventId: number): PhoneState {
  return { ...initialPhoneState(mac, 1), ip: '10.0.0.9', model: 'T46S', firmware: '66.86', registered: true, lastSeen: 2, lastEventId };
}

describe('events', { timeout: 120_000 }, () => {
  test('a batch gets increasing ids and reads back newest first with every field', async () => {
    const stored = await store.write({
      events: [event('aa0000000001', 'registered', 1000), event('aa0000000002', 'dnd_on', 2000, { display_remote: 'a & b' })],
      rejected: [],
    });
    assert.ok(stored[1].id > stored[0].id);
    const back = await store.events({ limit: 10 });
    assert.deepEqual(back.map((e) => e.id), [stored[1].id, stored[0].id]);
    assert.equal(back[0].vars.display_remote, 'a & b');
    assert.equal(back[0].rawTarget.toString(), '/actionurl/dnd_on?mac=aa0000000002');
    assert.equal(back[0].sourceIp, '10.0.0.9');
  });

  test('filters by mac, incident, call id and time, and pages with an id cursor', async () => {
    const events: NewEvent[] = [];
    for (let i = 0; i < 20; i++) {
      events.push(event(i % 2 ? 'aa0000000001' : 'aa0000000002', i % 3 ? 'incoming_call' : 'missed_call', 1000 + i, { call_id: String(i % 4) }));
    }
    await store.write({ events, rejected: [] });
    const odd = await store.events({ mac: 'aa0000000001', limit: 100 });
    assert.equal(odd.length, 10);
    assert.ok(odd.every((e) => e.mac === 'aa0000000001'));
    const missed = await store.events({ incident: 'missed_call', limit: 100 });
    assert.equal(missed.length, events.filter((e) => e.incident === 'missed_call').length);
    const call1 = await store.events({ callId: '1', limit: 100 });
    assert.ok(call1.length > 0 && call1.every((e) => e.vars.call_id === '1'));
    const recent = await store.events({ since: 1015, limit: 100 });
    assert.equal(recent.length, 5);

    const pages: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await store.events({ limit: 7, before });
      if (page.length === 0) break;
      pages.push(page.map((e) => e.id));
      before = page[page.length - 1].id;
    }
    assert.deepEqual(pages.map((p) => p.length), [7, 7, 6]);
    const all = pages.flat();
    assert.deepEqual(all, [...all].sort((a, b) => b - a));
  });

  test("a phone's events page along its chain, with filters, across batches and restarts", async () => {
    const mac = 'aa0000000003';
    for (let b = 0; b < 3; b++) {
      const events: NewEvent[] = [];
      for (let i = 0; i < 5; i++) {
        events.push(event(mac, i % 2 ? 'hold' : 'unhold', b * 10 + i, { call_id: String(i) }));
        events.push(event('aa0000000004', 'hold', b * 10 + i));
      }
      await store.write({ events, rejected: [] });
    }
    await store.close();
    store = new SqliteStore(file);
    const all = await store.events({ mac, limit: 100 });
    assert.equal(all.length, 15);
    assert.ok(all.every((e) => e.mac === mac));
    assert.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((a, b) => b - a));
    const page2 = await store.events({ mac, limit: 4, before: all[3].id });
    assert.deepEqual(page2.map((e) => e.id), all.slice(4, 8).map((e) => e.id));
    assert.equal((await store.events({ mac, incident: 'hold', limit: 100 })).length, 6);
    assert.equal((await store.events({ mac, callId: '2', limit: 100 })).length, 3);
    assert.equal((await store.events({ mac, since: 20, limit: 100 })).length, 5);
    await store.write({ events: [event(mac, 'mute', 99)], rejected: [] });
    assert.equal((await store.events({ mac, limit: 1 }))[0].incident, 'mute');
  });

  test('a failed batch leaves every phone chain as it was', async () => {
    await store.close();
    store = new SqliteStore(file, { worker: false });
    const mac = 'aa0000000005';
    await store.write({ events: [event(mac, 'hold', 1)], rejected: [] });
    await assert.rejects(store.write({ events: [event(mac, 'unhold', 2)], rejected: [], phones: [{ ...phone(mac, 1), mac: null as unknown as string }] }));
    await store.write({ events: [event(mac, 'mute', 3)], rejected: [] });
    assert.deepEqual((await store.events({ mac, limit: 10 })).map((e) => e.incident), ['mute', 'hold']);
  });

  test('eventsAfter replays oldest first from a cursor', async () => {
    const stored = await store.write({ events: [1, 2, 3, 4].map((n) => event('aa0000000001', 'hold', n)), rejected: [] });
    const after = await store.eventsAfter(stored[1].id, 10);
    assert.deepEqual(after.map((e) => e.id), [stored[2].id, stored[3].id]);
    assert.deepEqual(await store.eventsAfter(stored[0].id, 10, { mac: 'bb0000000000' }), []);
  });

  test('ids are never reused, even after every event was pruned', async () => {
    const first = await store.write({ events: [event('aa0000000001', 'hold', 1)], rejected: [] });
    assert.equal(await store.prune(10, 100), 1);
    assert.equal(await store.lastEventId(), first[0].id);
    const second = await store.write({ events: [event('aa0000000001', 'hold', 20)], rejected: [] });
    assert.ok(second[0].id > first[0].id);
  });
});

describe('transactions', { timeout: 120_000 }, () => {
  test('phone states, calls and the state checkpoint are stored together and read back', async () => {
    const [stored] = await store.write({ events: [event('aa0000000001', 'incoming_call', 5, { call_id: '7' })], rejected: [] });
    assert.equal(await store.stateCheckpoint(), 0);
    await store.write({
      events: [],
      rejected: [],
      phones: [phone('aa0000000001', stored.id)],
      calls: [{ mac: 'aa0000000001', call: call('7', 5, { lastEventId: stored.id }) }],
      stateEventId: stored.id,
    });
    const [p] = await store.loadPhones();
    assert.equal(p.mac, 'aa0000000001');
    assert.equal(p.lastEventId, stored.id);
    assert.equal(await store.stateCheckpoint(), stored.id);
    const calls = await store.calls({ limit: 10 });
    assert.equal(calls[0].call.displayRemote, 'Jörg Müller');
  });

  test('a batch that fails stores nothing of itself', async () => {
    await assert.rejects(
      store.write({
        events: [event('aa0000000001', 'hold', 1)],
        rejected: [{ receivedAt: 1, sourceIp: 'x', status: 400, reason: 'r', rawTarget: Buffer.from('/'), method: 'GET', count: 1 }],
        // A phone state without a MAC violates the schema, after the event and the rejected row went in.
        phones: [{ ...phone('aa0000000001', 1), mac: null as unknown as string }],
      }),
    );
    assert.deepEqual(await store.counts(), { events: 0, phones: 0, calls: 0, rejected: 0 });
  });

  test('a call is updated in place, and a reused call id with a new start is a new call', async () => {
    const mac = 'aa0000000001';
    await store.write({ events: [], rejected: [], calls: [{ mac, call: call('1', 100) }] });
    await store.write({ events: [], rejected: [], calls: [{ mac, call: call('1', 100, { outcome: 'answered', answeredAt: 110, endedAt: 170 }) }] });
    await store.write({ events: [], rejected: [], calls: [{ mac, call: call('1', 500) }] });
    const calls = await store.calls({ mac, limit: 10 });
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((c) => c.call.startedAt), [500, 100]);
    assert.equal(calls[1].call.outcome, 'answered');
    assert.equal((await store.calls({ outcome: 'answered', limit: 10 })).length, 1);
  });
});

describe('settings', { timeout: 60_000 }, () => {
  test('a setting is written, replaced, removed, and kept across a reopen; keepSetting keeps the first value', async () => {
    assert.equal(await store.setting('forwarding.disabled.crm'), undefined);
    await store.putSetting('forwarding.disabled.crm', 'first');
    await store.putSetting('forwarding.disabled.crm', '{"reason":"410 Gone"}');
    await store.putSetting('other', 'x');
    assert.equal(await store.keepSetting('other', 'y'), 'x');
    await store.close();
    store = new SqliteStore(file);
    assert.equal(await store.setting('forwarding.disabled.crm'), '{"reason":"410 Gone"}');
    await store.putSetting('forwarding.disabled.crm', null);
    assert.equal(await store.setting('forwarding.disabled.crm'), undefined);
    assert.equal(await store.setting('other'), 'x');
  });
});

describe('opening', { timeout: 120_000 }, () => {
  test('reopening a database keeps its data and applies no migration twice', async () => {
    await store.write({ events: [event('aa0000000001', 'hold', 1)], rejected: [] });
    await store.close();
    store = new SqliteStore(file);
    assert.equal((await store.counts()).events, 1);
    const db = new Database(file, { readonly: true });
    assert.deepEqual(
      db.prepare('SELECT version FROM schema_migrations ORDER BY version').all(),
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  test('an older database is upgraded in place, its phones\' event chains built from the old index', async () => {
    await store.close();
    rmSync(file);
    const old = new Database(file);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version < 3)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const ins = old.prepare("INSERT INTO events (received_at, mac, incident, vars, extra, raw_target, source_ip) VALUES (?, ?, 'hold', '{}', '{}', x'2f', 'x')");
    for (let i = 0; i < 6; i++) ins.run(i, i % 2 ? 'aa0000000001' : 'aa0000000002');
    old.close();
    store = new SqliteStore(file);
    assert.deepEqual((await store.events({ mac: 'aa0000000001', limit: 10 })).map((e) => e.receivedAt), [5, 3, 1]);
    await store.write({ events: [event('aa0000000001', 'unhold', 7)], rejected: [] });
    assert.deepEqual((await store.events({ mac: 'aa0000000001', limit: 10 })).map((e) => e.receivedAt), [7, 5, 3, 1]);
  });

  test('a database from a newer version is refused with a clear message', async () => {
    await store.close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations VALUES (99, ?, 0)').run('future');
    db.close();
    assert.throws(() => new SqliteStore(file), /newer than this actionurl knows/);
    store = new SqliteStore(':memory:');
  });

  test('the writer thread\'s own connection commits in WAL mode with synchronous=FULL', async () => {
    // Asked of the connection that writes, on its thread: FULL fsyncs the WAL at every commit, so an
    // acknowledged event survives power loss, not only a crash of the process.
    assert.deepEqual(await store.writerSettings(), { journalMode: 'wal', synchronous: 2 });
    // The setting is really passed to that thread: asking for NORMAL is what that connection reports.
    const relaxed = new SqliteStore(join(dir, 'normal.sqlite'), { synchronous: 'NORMAL' });
    try {
      assert.deepEqual(await relaxed.writerSettings(), { journalMode: 'wal', synchronous: 1 });
    } finally {
      await relaxed.close();
    }
  });

  test('a file database writes from its writer thread, visible to reads at once', async () => {
    await store.ready();
    const stored = await store.write({ events: [event('aa0000000001', 'hold', 1, { display_remote: 'Zoë' })], rejected: [] });
    const [back] = await store.events({ limit: 1 });
    assert.equal(back.id, stored[0].id);
    assert.equal(back.vars.display_remote, 'Zoë');
    assert.ok(Buffer.isBuffer(back.rawTarget));
  });

  test('--db values that are neither a file nor postgres are refused in one line', async () => {
    await assert.rejects(openStore('mysql://u:secret@h/db'), (err: Error) => err instanceof StoreConfigError && !err.message.includes('secret'));
  });
});

describe('retention', { timeout: 120_000 }, () => {
  test('prune deletes only old rows, in batches, and keeps ongoing calls and phones', async () => {
    const mac = 'aa0000000001';
    await store.write({
      events: [1, 2, 3, 50].map((t) => event(mac, 'hold', t)),
      rejected: [1, 60].map((t) => ({ receivedAt: t, sourceIp: 'x', status: 400, reason: 'r', rawTarget: Buffer.from('/'), method: 'GET', count: 1 })),
      phones: [phone(mac, 1)],
      calls: [{ mac, call: call('1', 1, { endedAt: 2, outcome: 'missed' }) }, { mac, call: call('2', 1) }],
    });
    assert.equal(await store.prune(10, 2), 2 + 1 + 1);
    assert.equal(await store.prune(10, 2), 1);
    assert.equal(await store.prune(10, 2), 0);
    assert.deepEqual(await store.counts(), { events: 1, phones: 1, calls: 1, rejected: 1 });
  });
});

test('a receiver\'s store holds its SQLite file: a second one in the same process is refused until the first closes', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-lock-'));
  const db = join(dir, 'events.sqlite');
  try {
    const first = await openStore(db);
    await assert.rejects(openStore(db), (err: Error) => err instanceof StoreConfigError && /in use by another receiver/.test(err.message));
    await first.close();
    const second = await openStore(db);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
