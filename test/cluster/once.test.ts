/**
 * Work that must happen once across receivers on one PostgreSQL: migrations (several receivers starting
 * together), retention rounds and closing silent calls; each survives the receiver doing it dying.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.ts';
import { LOCKS } from '../../src/store/pg-ingest.ts';
import type { NewEvent } from '../../src/store/types.ts';
import { BASE, dbUrl, useClusterDatabase } from './fixture.ts';

const database = useClusterDatabase();

function event(mac: string, incident: string, at: number, vars: Record<string, string> = {}): NewEvent {
  return { receivedAt: at, mac, incident, vars: { mac, ...vars }, extra: {}, rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`), sourceIp: '10.0.0.9' };
}

/** Another session (a second receiver) holding one of the receivers' advisory locks until it ends. */
async function holder(lock: number): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: BASE });
  c.on('error', () => {});
  await c.connect();
  await c.query('SELECT pg_advisory_lock($1)', [lock]);
  return c;
}

test('four receivers starting at once on a new schema migrate it once', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.connect(dbUrl(schema))));
  try {
    const res = await database.admin.query<{ version: number; n: number }>(`SELECT version, count(*)::int AS n FROM ${schema}.schema_migrations GROUP BY version ORDER BY version`);
    // Every migration applied exactly once, none skipped (however many later versions add).
    assert.ok(res.rows.length >= 8, `${res.rows.length} migrations`);
    assert.deepEqual(res.rows.map((r) => [r.version, r.n]), res.rows.map((_, i) => [i + 1, 1]));
    const [first] = await stores[0].write({ events: [event('001565000001', 'dnd_on', 1)], rejected: [] });
    assert.equal((await stores[3].events({ limit: 5 }))[0].id, first.id);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test('retention runs on one receiver at a time; when the receiver pruning dies, another one takes over', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const store = await PostgresStore.connect(dbUrl(schema));
  try {
    await store.write({ events: [1, 2, 3].map((n) => event('001565000001', 'dnd_on', n)), rejected: [] });
    // Another receiver is in a retention round: this one's round ends at once, deleting nothing.
    const other = await holder(LOCKS.retention);
    assert.equal(await store.prune(10, 100), 0);
    assert.equal((await store.counts()).events, 3);
    // That receiver dies (its session is gone): the lock is free again.
    await database.admin.query('SELECT pg_terminate_backend($1)', [(other as unknown as { processID: number }).processID]);
    await other.end().catch(() => {});
    assert.equal(await store.prune(10, 100), 3);
    assert.equal((await store.counts()).events, 0);
  } finally {
    await store.close();
  }
});

test('silent calls are closed by one receiver at a time, and by another once that one died', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const store = await PostgresStore.connect(dbUrl(schema));
  try {
    await store.write({ events: [event('001565000002', 'incoming_call', 1000, { call_id: '7', remote: 'sip:1@pbx' })], rejected: [] });
    const other = await holder(LOCKS.expire);
    assert.deepEqual(await store.shared.expire(10 * 3_600_000, 3_600_000), []);
    await database.admin.query('SELECT pg_terminate_backend($1)', [(other as unknown as { processID: number }).processID]);
    await other.end().catch(() => {});
    const changes = await store.shared.expire(10 * 3_600_000, 3_600_000);
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0].phone.calls, []);
    const [stored] = await store.calls({ limit: 5 });
    assert.equal(stored.call.outcome, 'missed');
    assert.equal(stored.call.endedAt, 1000);
    // A second run finds nothing left to close.
    assert.deepEqual(await store.shared.expire(10 * 3_600_000, 3_600_000), []);
  } finally {
    await store.close();
  }
});
