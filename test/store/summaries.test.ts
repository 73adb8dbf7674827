/**
 * Call summaries, inventory and forgetting, as both stores keep them: the same checks against SQLite and a
 * real PostgreSQL (each test in a fresh schema). Figures are compared with sums computed here from the calls
 * written. PostgreSQL not reachable: these tests fail on CI and are skipped elsewhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { MIGRATIONS } from '../../src/store/sqlite-schema.ts';
import { splitPeriod, TIERS } from '../../src/store/call-stats.ts';
import fc from 'fast-check';
import type { CallState } from '../../src/domain/types.ts';
import type { NewEvent, Store } from '../../src/store/types.ts';
import { connectOptionalAdmin, PG_BASE, testSchema } from './pg-optional.ts';

const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

function prng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

interface Made { mac: string; call: CallState }

/** 300 ended calls over 5 days on 4 phones and 2 accounts each, seeded. */
function makeCalls(): Made[] {
  const r = prng(7);
  const out: Made[] = [];
  for (let i = 0; i < 300; i++) {
    const mac = `aa000000000${i % 4}`;
    const startedAt = T0 + Math.floor(r() * 5 * D);
    const answered = r() < 0.7;
    const ring = Math.floor(r() * 70_000);
    const incoming = r() < 0.65;
    // Some answered calls were handed on (transferred), some lost in a failed transfer (failed).
    const after = r();
    const answeredOutcome = after < 0.15 ? 'failed' : after < 0.3 ? 'transferred' : 'answered';
    out.push({
      mac,
      call: {
        callId: String(i), direction: incoming ? 'incoming' : 'outgoing', remote: 'sip:9@pbx', displayRemote: 'x',
        local: `sip:${200 + (i % 2)}@PBX.example`, phase: 'ended',
        outcome: answered ? answeredOutcome : incoming ? (r() < 0.5 ? 'missed' : 'rejected') : 'failed', muted: false,
        startedAt, answeredAt: answered ? startedAt + ring : null, endedAt: startedAt + ring + (answered ? Math.floor(r() * 300_000) : 0),
        lastEventId: i + 1,
      },
    });
  }
  return out;
}

/** What the summaries must say for a period: sums per phone, account and direction, computed here. */
function expected(calls: readonly Made[], from: number, to: number, macs?: string[]) {
  const out = new Map<string, number[]>();
  for (const { mac, call: c } of calls) {
    if (c.endedAt === null || c.startedAt < from || c.startedAt >= to || (macs && !macs.includes(mac))) continue;
    const key = `${mac} ${c.local.replace('sip:', '').toLowerCase()} ${c.direction}`;
    const row = out.get(key) ?? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    // Answered, as docs/api.md defines it: answered, and the outcome answered or transferred (not lost after).
    const ring = c.answeredAt === null || !['answered', 'transferred'].includes(c.outcome) ? null : c.answeredAt - c.startedAt;
    const values = [
      1, ring === null ? 0 : 1, c.outcome === 'missed' ? 1 : 0, c.outcome === 'rejected' ? 1 : 0, c.outcome === 'forwarded' ? 1 : 0,
      ring ?? 0, ring === null ? 0 : c.endedAt - c.answeredAt!, ...[5, 10, 15, 20, 30, 60].map((s) => (ring !== null && ring <= s * 1000 ? 1 : 0)),
    ];
    out.set(key, row.map((v, i) => v + values[i]));
  }
  return out;
}

async function actual(store: Store, from: number, to: number, macs?: string[]) {
  const rows = await store.callStats({ from, to, ...(macs ? { macs } : {}) });
  return new Map(rows.map((r) => [`${r.mac} ${r.account} ${r.direction}`,
    [r.calls, r.answered, r.missed, r.rejected, r.forwarded, r.ringMs, r.talkMs, ...r.answeredWithin]]));
}

const event = (mac: string, at: number): NewEvent => ({ receivedAt: at, mac, incident: 'dnd_on', vars: { mac }, extra: {}, rawTarget: Buffer.from('/x'), sourceIp: '10.0.0.1' });

function contract(name: string, open: () => Promise<Store | undefined>) {
  describe(name, { timeout: 60_000 }, () => {
    it('summaries add up to the calls stored, for whole days, partial days and a group, also after calls change', async (t) => {
      const store = await open();
      if (!store) return t.skip('no PostgreSQL');
      try {
        const calls = makeCalls();
        // First as missed (unanswered) where they were answered: the later write must replace them.
        const first = calls.map(({ mac, call }) => ({ mac, call: call.answeredAt === null ? call : { ...call, answeredAt: null, outcome: 'missed' as const } }));
        for (let i = 0; i < first.length; i += 50) await store.write({ events: [], rejected: [], calls: first.slice(i, i + 50) });
        await store.write({ events: [], rejected: [], calls });
        // An ongoing call does not count.
        await store.write({ events: [], rejected: [], calls: [{ mac: 'aa0000000000', call: { ...calls[0].call, callId: 'open', endedAt: null, outcome: 'ongoing' } }] });
        for (const [from, to] of [[T0, T0 + 5 * D], [T0 + 3 * H, T0 + 2 * D + 5 * H], [T0 + 26 * H, T0 + 29 * H], [T0 - D, T0 + 10 * D], [T0 - 60 * D, T0 + 60 * D]]) {
          assert.deepEqual(await actual(store, from, to), expected(calls, from, to), `${(from - T0) / H} h to ${(to - T0) / H} h`);
        }
        const group = ['aa0000000001', 'aa0000000003'];
        assert.deepEqual(await actual(store, T0 + 5 * H, T0 + 4 * D, group), expected(calls, T0 + 5 * H, T0 + 4 * D, group));
        assert.deepEqual(await store.callStats({ from: T0, to: T0 + 5 * D, macs: [] }), []);

        const hours = await store.hourStats({ from: T0, to: T0 + 5 * D });
        const perHour = new Map<string, number>();
        for (const { call: c } of calls) perHour.set(`${c.startedAt - (c.startedAt % H)} ${c.direction}`, (perHour.get(`${c.startedAt - (c.startedAt % H)} ${c.direction}`) ?? 0) + 1);
        assert.deepEqual(new Map(hours.map((h) => [`${h.hour} ${h.direction}`, Number(h.calls)])), perHour);
        const groupHours = await store.hourStats({ from: T0, to: T0 + 5 * D, macs: group });
        assert.equal(groupHours.reduce((s, h) => s + Number(h.calls), 0), calls.filter((c) => group.includes(c.mac)).length);
      } finally {
        await store.close();
      }
    });

    it('keeps the inventory, and forgets a phone with or without its events, calls and summaries', async (t) => {
      const store = await open();
      if (!store) return t.skip('no PostgreSQL');
      try {
        await store.write({ events: [], rejected: [], inventory: [
          { mac: 'aa0000000000', name: 'Désk "1",\u0000x', location: '=1+1', groups: ['a', 'b c'] },
          { mac: 'aa0000000001', name: 'Two', location: '', groups: [] },
        ] });
        const inv = (await store.loadInventory()).sort((a, b) => a.mac.localeCompare(b.mac));
        assert.deepEqual(inv[0].groups, ['a', 'b c']);
        assert.equal(inv[0].location, '=1+1');
        const calls = makeCalls();
        await store.write({ events: [event('aa0000000000', T0), event('aa0000000001', T0 + 1)], rejected: [], calls });
        await store.write({ events: [event('aa0000000000', T0 + 2)], rejected: [] });
        const ids = (await store.events({ limit: 10 })).map((e) => e.id);

        await store.write({ events: [], rejected: [], forget: [{ mac: 'aa0000000001', upToEventId: ids[1], purge: false }] });
        assert.deepEqual((await store.loadInventory()).map((e) => e.mac), ['aa0000000000']);
        assert.equal((await store.events({ mac: 'aa0000000001', limit: 10 })).length, 1, 'events kept');
        assert.deepEqual(await actual(store, T0, T0 + 5 * D), expected(calls, T0, T0 + 5 * D), 'calls kept');

        await store.write({ events: [], rejected: [], forget: [{ mac: 'aa0000000000', upToEventId: ids[0], purge: true }] });
        assert.deepEqual(await store.events({ mac: 'aa0000000000', limit: 10 }), []);
        assert.equal((await store.calls({ mac: 'aa0000000000', limit: 1000 })).length, 0);
        const rest = calls.filter((c) => c.mac !== 'aa0000000000');
        assert.deepEqual(await actual(store, T0, T0 + 5 * D), expected(rest, T0, T0 + 5 * D), 'its share of the summaries went');
        assert.deepEqual([...(await store.forgottenPhones())].sort(), [['aa0000000000', ids[0]], ['aa0000000001', ids[1]]]);
      } finally {
        await store.close();
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'actionurl-summaries-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
contract('SQLite', async () => {
  const store = new SqliteStore(join(dir, `s${n++}.sqlite`));
  await store.ready();
  return store;
});

let admin: pg.Client | undefined;
const schemas: string[] = [];
before(async () => {
  admin = await connectOptionalAdmin();
});
after(async () => {
  for (const s of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin?.end();
});
contract('PostgreSQL', async () => {
  if (!admin) return undefined;
  const schema = testSchema();
  schemas.push(schema);
  return PostgresStore.connect(`${PG_BASE}?schema=${schema}`);
});

describe('splitting a period over the summary tables', { timeout: 20_000 }, () => {
  it('covers the period exactly, each part whole buckets of its table, at most 6 parts per end', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 1, max: 20_000 }), (startHour, hours) => {
      const from = startHour * H;
      const to = from + hours * H;
      const parts = splitPeriod({ from, to });
      assert.equal(parts[0].from, from);
      assert.equal(parts[parts.length - 1].to, to);
      for (let i = 0; i < parts.length; i++) {
        const size = TIERS.find((t) => t.table === parts[i].table)!.size;
        assert.ok(parts[i].from % size === 0 && parts[i].to % size === 0 && parts[i].from < parts[i].to);
        if (i > 0) assert.equal(parts[i].from, parts[i - 1].to);
      }
      assert.ok(parts.length <= 7);
    }), { numRuns: 500 });
  });
});

describe('upgrading a SQLite database', { timeout: 30_000 }, () => {
  it('counts the summaries again when the definition of an answered call changed', async () => {
    const file = join(dir, 'recount.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= 14)) {
      db.exec(m.sql);
      m.run?.(db);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const calls = makeCalls();
    const insert = db.prepare(`INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at,
      outcome, ring_ms, talk_ms, state, last_event_id, account) VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, 0, 0, '{}', 1, ?)`);
    for (const { mac, call: c } of calls) insert.run(mac, c.callId, c.startedAt, c.direction, c.local, c.answeredAt, c.endedAt, c.outcome, c.local.replace('sip:', '').toLowerCase());
    // Figures an older definition counted (every answered_at as answered), in every summary table.
    for (const t of ['call_stats_hour', 'call_stats_day', 'call_stats_week', 'call_stats_block', 'call_stats_site']) db.exec(`UPDATE ${t} SET answered = calls`);
    db.close();
    const store = new SqliteStore(file);
    try {
      assert.deepEqual(await actual(store, T0, T0 + 5 * D), expected(calls, T0, T0 + 5 * D));
      const hours = await store.hourStats({ from: T0, to: T0 + 5 * D });
      assert.equal(hours.reduce((s, h) => s + Number(h.answered), 0), calls.filter((c) => c.call.answeredAt !== null && ['answered', 'transferred'].includes(c.call.outcome)).length);
    } finally {
      await store.close();
    }
  });

  it('fills the summaries and accounts from the calls stored before the migration', async () => {
    const file = join(dir, 'old.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const calls = makeCalls();
    const insert = db.prepare(`INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at,
      outcome, ring_ms, talk_ms, state, last_event_id) VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, 0, 0, '{}', 1)`);
    for (const { mac, call: c } of calls) insert.run(mac, c.callId, c.startedAt, c.direction, c.local, c.answeredAt, c.endedAt, c.outcome);
    db.close();
    const store = new SqliteStore(file);
    try {
      assert.deepEqual(await actual(store, T0, T0 + 5 * D), expected(calls, T0, T0 + 5 * D));
    } finally {
      await store.close();
    }
  });
});
