/**
 * The outbox in both stores (SQLite file with its writer thread, and a real PostgreSQL in a fresh schema):
 * delivery rows commit or roll back with their events, derived rows are stored once, outcomes, retry,
 * switch-off and retention.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import type { NewDelivery, NewEvent, Store } from '../../src/store/types.ts';

const PG = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const dirs: string[] = [];
const schemas: string[] = [];

after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (schemas.length) {
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  }
});

const stores: [string, () => Promise<Store>][] = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'actionurl-outbox-'));
      dirs.push(dir);
      const s = new SqliteStore(join(dir, 'db.sqlite'));
      await s.ready();
      return s;
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = `au_outbox_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      // Not reaching the machine's PostgreSQL fails the test: it is part of the set-up.
      return PostgresStore.connect(`${PG}?schema=${schema}`);
    },
  ],
];

const ev = (mac: string, incident: string, at: number): NewEvent => ({
  receivedAt: at,
  mac,
  incident,
  vars: { mac },
  extra: {},
  rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`),
  sourceIp: '10.0.0.1',
});

const derived = (over: Partial<NewDelivery> = {}): NewDelivery => ({
  destination: 'hook',
  type: 'call.ended',
  mac: '001565000001',
  eventId: null,
  createdAt: 1000,
  body: '{"type":"call.ended"}',
  dedupeKey: '001565000001:call.ended:7:1000',
  ...over,
});

for (const [kind, open] of stores) {
  describe(`outbox in ${kind}`, { timeout: 30_000 }, () => {
    test('delivery rows are written with their events, one per destination named', async () => {
      const store = await open();
      try {
        const stored = await store.write({
          events: [ev('001565000001', 'incoming_call', 1000), ev('001565000002', 'dnd_on', 1001), ev('001565000001', 'dnd_off', 1002)],
          rejected: [],
          routes: [['hook', 'mqtt'], undefined, ['hook']],
        });
        const due = await store.deliveriesDue('hook', 0, 100);
        assert.deepEqual(due.map((d) => [d.eventId, d.type, d.state, d.attempts]), [
          [stored[0].id, 'phone.incoming_call', 'pending', 0],
          [stored[2].id, 'phone.dnd_off', 'pending', 0],
        ]);
        assert.deepEqual(await store.outboxDepth(), { hook: 2, mqtt: 1 });
        const events = await store.eventsByIds([stored[2].id, stored[0].id, 999_999]);
        assert.deepEqual(events.map((e) => e.id).sort((a, b) => a - b), [stored[0].id, stored[2].id]);
      } finally {
        await store.close();
      }
    });

    test('a transaction that fails stores neither the events nor their deliveries', async () => {
      const store = await open();
      try {
        await assert.rejects(
          store.write({
            events: [ev('001565000001', 'incoming_call', 1000)],
            rejected: [],
            routes: [['hook']],
            deliveries: [derived({ destination: null as unknown as string })],
          }),
        );
        assert.equal((await store.counts()).events, 0);
        assert.deepEqual(await store.outboxDepth(), {});
        // The store still works afterwards.
        const ok = await store.write({ events: [ev('001565000001', 'dnd_on', 1001)], rejected: [], routes: [['hook']] });
        assert.equal((await store.deliveriesDue('hook', 0, 10))[0].eventId, ok[0].id);
      } finally {
        await store.close();
      }
    });

    test('a derived delivery written twice (replay after a crash) is stored once', async () => {
      const store = await open();
      try {
        await store.write({ events: [], rejected: [], deliveries: [derived()] });
        await store.write({ events: [], rejected: [], deliveries: [derived(), derived({ destination: 'other' })] });
        assert.deepEqual(await store.outboxDepth(), { hook: 1, other: 1 });
      } finally {
        await store.close();
      }
    });

    test('outcomes, retry by hand, switch-off and retention', async () => {
      const store = await open();
      try {
        await store.write({ events: [], rejected: [], deliveries: [derived(), derived({ dedupeKey: 'b', createdAt: 5000 }), derived({ dedupeKey: 'c' })] });
        const [a, b, c] = await store.deliveriesDue('hook', 0, 10);
        await store.updateDeliveries([
          { id: a.id, state: 'delivered', attempts: 1, nextAt: 1100, lastError: null, lastStatus: 200, lastAttemptAt: 1100, deliveredAt: 1100, body: null },
          { id: b.id, state: 'failed', attempts: 2, nextAt: 9000, lastError: 'HTTP 500', lastStatus: 500, lastAttemptAt: 1200, deliveredAt: null, body: '{"x":1}' },
        ]);
        const gotA = (await store.delivery(a.id))!;
        assert.equal(gotA.state, 'delivered');
        assert.equal(gotA.body, '{"type":"call.ended"}', 'a null body in an update keeps the stored one');
        const gotB = (await store.delivery(b.id))!;
        assert.deepEqual([gotB.state, gotB.attempts, gotB.lastError, gotB.lastStatus, gotB.body], ['failed', 2, 'HTTP 500', 500, '{"x":1}']);
        assert.deepEqual((await store.deliveriesDue('hook', 0, 10)).map((d) => d.id), [b.id, c.id], 'delivered ones are no longer due');

        assert.equal(await store.killDeliveries('hook', 'HTTP 410 Gone', 2000), 2);
        assert.deepEqual((await store.deliveries({ state: 'dead', limit: 10 })).map((d) => d.id), [c.id, b.id]);
        const again = (await store.retryDelivery(b.id, 3000))!;
        assert.deepEqual([again.state, again.attempts, again.nextAt], ['pending', 0, 3000]);
        assert.equal(await store.retryDelivery(424242, 3000), undefined);

        // Retention removes delivered and dead rows older than the cutoff, never ones still to send.
        await store.prune(4000, 100);
        const left = await store.deliveries({ limit: 10 });
        assert.deepEqual(left.map((d) => d.id).sort((x, y) => x - y), [b.id]);
      } finally {
        await store.close();
      }
    });
  });
}
