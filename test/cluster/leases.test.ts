/**
 * Delivery leases on a real PostgreSQL (the store's part of forwarding across receivers): shards are never
 * held by two receivers, also when they claim at the same moment; a lease that is not renewed runs out and
 * another receiver takes the shard; giving back and leaving free shards at once; receivers read only their
 * shards' deliveries; the migration puts existing deliveries in their shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { MIGRATIONS } from '../../src/store/pg-schema.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { DELIVERY_SHARDS, deliveryShard } from '../../src/store/delivery-rows.ts';
import type { ForwardingPeer, NewEvent } from '../../src/store/types.ts';
import { BASE, dbUrl, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

async function stores(n: number): Promise<PostgresStore[]> {
  const schema = database.schema();
  return Promise.all(Array.from({ length: n }, () => PostgresStore.connect(dbUrl(schema))));
}

const peer = (holder: string, names: string[] = ['crm']): ForwardingPeer => ({
  holder,
  destinations: names.map((name) => ({ name, fingerprint: 'f', summary: `webhook ${name}` })),
});

function event(mac: string, n: number): NewEvent {
  return { receivedAt: n, mac, incident: 'dnd_on', vars: { mac }, extra: { n: String(n) }, rawTarget: Buffer.from('/x'), sourceIp: '10.0.0.9' };
}

const all = Array.from({ length: DELIVERY_SHARDS }, (_, i) => i);

test('receivers claiming at the same moment never hold the same shard, and together hold every one', { timeout: 60_000 }, async () => {
  const list = await stores(3);
  try {
    const held = await Promise.all(list.map((s, i) => s.shared.leases.claim(`r${i}`, 10_000, { crm: DELIVERY_SHARDS }, [])));
    const shards = held.flatMap((h) => h.crm ?? []);
    assert.deepEqual([...shards].sort((a, b) => a - b), all, 'every shard held exactly once');
    // Claiming again changes nothing: renewed, none taken from another.
    const again = await Promise.all(list.map((s, i) => s.shared.leases.claim(`r${i}`, 10_000, { crm: DELIVERY_SHARDS }, [])));
    assert.deepEqual(again, held);
  } finally {
    await Promise.all(list.map((s) => s.close()));
  }
});

test('a shard given back is taken by the next claim; an unrenewed lease runs out and is taken over', { timeout: 60_000 }, async () => {
  const [a, b] = await stores(2);
  try {
    const first = await a.shared.leases.claim('a', 600, { crm: DELIVERY_SHARDS }, []);
    assert.equal(first.crm.length, DELIVERY_SHARDS);
    assert.deepEqual(await b.shared.leases.claim('b', 600, { crm: 16 }, []), {}, 'nothing free: b gets nothing');
    const kept = await a.shared.leases.claim('a', 600, { crm: 0 }, first.crm.slice(16).map((shard) => ({ destination: 'crm', shard })));
    assert.deepEqual(kept.crm, first.crm.slice(0, 16));
    const taken = await b.shared.leases.claim('b', 600, { crm: 16 }, []);
    assert.deepEqual(taken.crm, first.crm.slice(16), 'b took exactly what a gave back');
    // a stops renewing (it died): once its lease ran out (by the database's clock), b takes its shards; a, back, holds none.
    let b2: Record<string, number[]> = {};
    await waitUntil('b holds a\'s shards too', async () => {
      b2 = await b.shared.leases.claim('b', 10_000, { crm: 16 }, []);
      return b2.crm?.length === all.length;
    }, 10_000);
    assert.deepEqual(b2.crm, all);
    assert.deepEqual(await a.shared.leases.claim('a', 10_000, { crm: 0 }, []), {});
    // Leaving gives everything back at once.
    await b.shared.leases.leave('b');
    assert.equal((await a.shared.leases.claim('a', 10_000, { crm: DELIVERY_SHARDS }, [])).crm.length, DELIVERY_SHARDS);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('heartbeat lists the receivers seen within a lease, with their destinations; leaving removes one', { timeout: 60_000 }, async () => {
  const [a, b] = await stores(2);
  try {
    await a.shared.leases.heartbeat(peer('a', ['crm', 'mqtt']), 500);
    const seen = await b.shared.leases.heartbeat(peer('b'), 500);
    assert.deepEqual(seen, [peer('a', ['crm', 'mqtt']), peer('b')]);
    // a stops beating: once the database's clock is past its lease, only b is seen.
    let later: ForwardingPeer[] = [];
    await waitUntil('a is no longer seen', async () => (later = await b.shared.leases.heartbeat(peer('b'), 500)).length === 1, 10_000);
    assert.deepEqual(later, [peer('b')], 'a is no longer alive');
    await b.shared.leases.leave('b');
    assert.deepEqual(await a.shared.leases.heartbeat(peer('a'), 500), [peer('a')]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a receiver reads only the deliveries of the shards it asks for', { timeout: 60_000 }, async () => {
  const [store] = await stores(1);
  try {
    // MACs in at least two shards.
    const macs = ['001565000001', '001565000002', '001565000003', '001565000004', '001565000005'];
    const shards = [...new Set(macs.map(deliveryShard))];
    assert.ok(shards.length >= 2);
    const events = macs.flatMap((m, i) => [event(m, i * 2), event(m, i * 2 + 1)]);
    await store.write({ events, rejected: [], routes: events.map(() => ['crm']) });
    await store.write({ events: [], rejected: [], deliveries: [{ destination: 'crm', type: 'call.ended', mac: macs[0], eventId: null, createdAt: 99, body: '{}', dedupeKey: 'k1' }] });
    const mine = await store.deliveriesDue('crm', 0, 100, [shards[0]]);
    const expected = macs.filter((m) => deliveryShard(m) === shards[0]);
    assert.ok(mine.length > 0);
    assert.ok(mine.every((d) => expected.includes(d.mac)), 'only the asked shard');
    assert.equal(mine.length, expected.length * 2 + (deliveryShard(macs[0]) === shards[0] ? 1 : 0));
    assert.deepEqual(mine.map((d) => d.id), [...mine.map((d) => d.id)].sort((x, y) => x - y), 'oldest first');
    assert.deepEqual(await store.deliveriesDue('crm', 0, 100, []), [], 'no shard: nothing');
    assert.equal((await store.deliveriesDue('crm', 0, 100)).length, 11, 'without shards: every delivery');
  } finally {
    await store.close();
  }
});

test('upgrading a database with deliveries puts each one in its phone\'s shard', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const c = new pg.Client({ connectionString: BASE });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}`);
    await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) {
      await c.query(m.sql);
      await m.run?.(c as unknown as pg.PoolClient);
      await c.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
    }
    const macs = Array.from({ length: 40 }, (_, i) => `0015650000${String(i).padStart(2, '0')}`);
    for (const mac of macs) {
      await c.query(`INSERT INTO deliveries (destination, type, mac, created_at, state, next_at) VALUES ('crm', 'phone.dnd_on', $1, 1, 'pending', 1)`, [mac]);
    }
  } finally {
    await c.end();
  }
  const store = await PostgresStore.connect(dbUrl(schema));
  try {
    const res = await database.admin.query<{ mac: string; shard: number }>(`SELECT mac, shard FROM ${schema}.deliveries`);
    assert.equal(res.rows.length, 40);
    for (const r of res.rows) assert.equal(r.shard, deliveryShard(r.mac), r.mac);
    assert.ok(new Set(res.rows.map((r) => r.shard)).size > 10, 'spread over the shards');
  } finally {
    await store.close();
  }
});

test('outcomes of one delivery stored in one batch end as the last one says (delivered after two failures)', { timeout: 60_000 }, async () => {
  const [store] = await stores(1);
  try {
    await store.write({ events: [event('001565000009', 1)], rejected: [], routes: [['crm']] });
    const [row] = await store.deliveriesDue('crm', 0, 10);
    const attempt = (n: number, state: 'failed' | 'delivered') => ({
      id: row.id, state, attempts: n, nextAt: 100 + n, lastError: state === 'failed' ? '503' : null, lastStatus: state === 'failed' ? 503 : 200,
      lastAttemptAt: n, deliveredAt: state === 'delivered' ? n : null, body: n === 1 ? '{"first":true}' : null,
    });
    await store.updateDeliveries([attempt(1, 'failed'), attempt(2, 'failed'), attempt(3, 'delivered')]);
    const stored = (await store.delivery(row.id))!;
    assert.equal(stored.state, 'delivered');
    assert.equal(stored.attempts, 3);
    assert.equal(stored.body, '{"first":true}', 'the body as first sent is kept');
    assert.deepEqual(await store.deliveriesDue('crm', 0, 10), []);
  } finally {
    await store.close();
  }
});
