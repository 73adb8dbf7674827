/**
 * Forwarding on while PostgreSQL is away: batches carrying outbox rows are journalled (phones get 200), and
 * when the journal moves in every event is stored once, each destination gets one row per event (with the
 * event's real id), conclusions are drawn from the exact states, carried rows keep their dedupe keys, and
 * a webhook receives every delivery exactly once, each phone's in the order sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../../src/store/postgres.ts';
import { StoreUnavailableError } from '../../src/store/store-unavailable.ts';
import type { NewDelivery, NewEvent } from '../../src/store/types.ts';
import { webhookId } from '../../src/store/delivery-rows.ts';
import { startHookServer } from '../forwarding/helpers/hook-server.ts';
import { dbUrl, ingest, startProxy, startReceivers, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

const ev = (mac: string, incident: string, at: number, seq: string): NewEvent => ({
  receivedAt: at,
  mac,
  incident,
  vars: { mac },
  extra: { seq },
  rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`),
  sourceIp: '10.0.0.1',
});

const carried = (key: string | null, eventId: number | null): NewDelivery => ({
  destination: 'hook',
  type: 'phone.offline',
  mac: '001565000001',
  eventId,
  createdAt: 5,
  body: '{"type":"phone.offline"}',
  dedupeKey: key,
});

interface Row {
  id: number;
  destination: string;
  type: string;
  mac: string;
  event_id: number | null;
  dedupe_key: string | null;
}

test('the store journals batches with outbox rows and moves them in with event ids, exact conclusions and dedupe keys', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const proxy = await startProxy();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-journal-outbox-'));
  const A = '001565000001';
  const B = '001565000002';
  const store = await PostgresStore.connect(dbUrl(schema, proxy.port), { journal: join(dir, 'journal.sqlite'), journalRetryMs: 50 });
  // What the conclusion hook was told, per event: the phone's last event before it (0: a phone not seen yet).
  const told = new Map<string, number>();
  store.shared.conclude((before, after, _calls, e) => {
    told.set(e.extra.seq, before?.lastEventId ?? 0);
    assert.equal(after.lastEventId, e.id);
    return [{ destination: 'hook', type: 'test.concluded', mac: e.mac, eventId: e.id, createdAt: e.receivedAt, body: null, dedupeKey: `${e.mac}:c:${e.id}` }];
  });
  try {
    const [a1] = await store.write({ events: [ev(A, 'dnd_on', 1, 'a1')], rejected: [], routes: [['hook']] });
    assert.ok(a1.id > 0);
    proxy.cut();
    // Both answered from the journal (id 0), not refused.
    const second = await store.write({
      events: [ev(A, 'dnd_off', 2, 'a2'), ev(B, 'dnd_on', 3, 'b1')],
      rejected: [],
      routes: [['hook', 'mqtt'], ['hook']],
      deliveries: [carried(`${A}:phone.offline:1`, a1.id)],
    });
    assert.deepEqual(second.map((e) => e.id), [0, 0]);
    const third = await store.write({
      events: [ev(A, 'dnd_on', 4, 'a3')],
      rejected: [{ receivedAt: 4, sourceIp: '10.0.0.2', status: 400, reason: 'missing mac', rawTarget: Buffer.from('/x'), method: 'GET', count: 1 }],
      routes: [['hook']],
      // The same conclusion derived twice, and one about no event.
      deliveries: [carried(`${A}:phone.offline:1`, a1.id), carried(null, null)],
    });
    assert.deepEqual(third.map((e) => e.id), [0]);
    assert.equal(store.journalled, 2);
    // An administrator's change is not journalled: refused with a sentence, nothing changed.
    await assert.rejects(
      store.write({ events: [], rejected: [], inventory: [{ mac: A, name: 'Desk', location: '', groups: [] }] }),
      (err: unknown) => err instanceof StoreUnavailableError && /try again/.test(err.message) && !err.message.includes('\n'),
    );
    proxy.restore();
    await waitUntil('the journal is moved in', () => store.journalled === 0);

    const events = (await database.admin.query<{ id: number; seq: string }>(`SELECT id::int, extra->>'seq' AS seq FROM ${schema}.events ORDER BY id`)).rows;
    assert.deepEqual(events.map((e) => e.seq), ['a1', 'a2', 'b1', 'a3']);
    const id = Object.fromEntries(events.map((e) => [e.seq, e.id]));
    // Conclusions of moved-in events were drawn from the states reduced in that transaction.
    assert.deepEqual(Object.fromEntries(told), { a1: 0, a2: id.a1, b1: 0, a3: id.a2 });

    const rows = (await database.admin.query<Row>(`SELECT id::int, destination, type, mac, event_id::int, dedupe_key FROM ${schema}.deliveries ORDER BY id`)).rows;
    const shape = (r: Row) => `${r.destination} ${r.type} ${r.mac} ${r.event_id} ${r.dedupe_key}`;
    assert.deepEqual(rows.map(shape), [
      `hook phone.dnd_on ${A} ${id.a1} null`,
      `hook test.concluded ${A} ${id.a1} ${A}:c:${id.a1}`,
      // Second batch: the row that rode with it first, then per event its destinations and its conclusion.
      `hook phone.offline ${A} ${id.a1} ${A}:phone.offline:1`,
      `hook phone.dnd_off ${A} ${id.a2} null`,
      `mqtt phone.dnd_off ${A} ${id.a2} null`,
      `hook test.concluded ${A} ${id.a2} ${A}:c:${id.a2}`,
      `hook phone.dnd_on ${B} ${id.b1} null`,
      `hook test.concluded ${B} ${id.b1} ${B}:c:${id.b1}`,
      // Third: the repeated dedupe key is stored once.
      `hook phone.offline ${A} null null`,
      `hook phone.dnd_on ${A} ${id.a3} null`,
      `hook test.concluded ${A} ${id.a3} ${A}:c:${id.a3}`,
    ]);
    assert.equal((await database.admin.query(`SELECT 1 FROM ${schema}.rejected`)).rowCount, 1);
    // The journal is empty: administrators' changes go through again.
    await store.write({ events: [], rejected: [], inventory: [{ mac: A, name: 'Desk', location: '', groups: [] }] });
  } finally {
    await store.close();
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Per phone, `senders` loops each send `perSender` events (incoming call, then its end) in order. */
async function load(port: number, senders: number, perSender: number, during: (sent: () => number) => Promise<void>) {
  const acked: string[] = [];
  const refused: string[] = [];
  let sent = 0;
  const loops = Array.from({ length: senders }, async (_, s) => {
    const mac = `0015650001${String(s).padStart(2, '0')}`;
    for (let i = 0; i < perSender; i++) {
      const seq = `${s}-${i}`;
      const target = i % 2 === 0
        ? `/actionurl/incoming_call?mac=${mac}&call_id=${i / 2}&remote=sip:${i}@pbx&seq=${seq}`
        : `/actionurl/call_terminated?mac=${mac}&call_id=${(i - 1) / 2}&seq=${seq}`;
      const status = await ingest(port, target);
      sent++;
      (status === 200 ? acked : refused).push(status === 200 ? seq : `${seq}:${status}`);
    }
  });
  await Promise.all([...loops, during(() => sent)]);
  return { acked, refused };
}

test('a receiver with a webhook, PostgreSQL cut off under load: phones get 200, and the webhook gets every delivery once, in order per phone', { timeout: 180_000 }, async () => {
  const schema = database.schema();
  const proxy = await startProxy();
  const hook = await startHookServer();
  const cluster = await startReceivers(1, dbUrl(schema, proxy.port), { webhook: [hook.url], forwarding: { recordEveryMs: 20 } });
  const server = cluster.servers[0];
  const SENDERS = 5;
  const PER = 60;
  let journalledMax = 0;
  try {
    const { acked, refused } = await load(server.port, SENDERS, PER, async (sent) => {
      await waitUntil('some events were sent', () => sent() >= 50);
      proxy.cut();
      // The outage lasts 2 s under load (its length is the point), sampling the journal meanwhile.
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        journalledMax = Math.max(journalledMax, server.ctx.store.shared!.journalled);
        await new Promise((r) => setTimeout(r, 20));
      }
      proxy.restore();
    });
    assert.ok(journalledMax > 0, 'events were journalled while PostgreSQL was away');
    assert.deepEqual(refused, [], 'no phone was refused');
    assert.equal(acked.length, SENDERS * PER);
    await waitUntil('the journal is moved in', () => server.ctx.store.shared!.journalled === 0);

    const stored = await database.admin.query<{ id: number; seq: string; mac: string }>(`SELECT id::int, extra->>'seq' AS seq, mac FROM ${schema}.events ORDER BY id`);
    assert.equal(stored.rows.length, acked.length, 'every acknowledged event stored once');
    assert.deepEqual(new Set(stored.rows.map((r) => r.seq)), new Set(acked));

    // One incident delivery per event, and one call.ended per call (each phone had PER / 2 calls).
    const all = (
      await database.admin.query<{ id: number; created_at: number; type: string; event_id: number | null }>(
        `SELECT id::int, created_at::float8 AS created_at, type, event_id::int FROM ${schema}.deliveries ORDER BY id`,
      )
    ).rows;
    const incidents = all.filter((r) => r.type.startsWith('phone.') && r.type !== 'phone.online' && r.type !== 'phone.registration');
    assert.equal(incidents.length, acked.length);
    assert.deepEqual(new Set(incidents.map((r) => r.event_id)), new Set(stored.rows.map((r) => r.id)));
    assert.equal(all.filter((r) => r.type === 'call.ended').length, SENDERS * (PER / 2));
    assert.equal(all.filter((r) => r.type === 'phone.online').length, SENDERS, 'one phone.online per phone');

    // The webhook saw each delivery exactly once (counted by webhook-id), and nothing else.
    await waitUntil(`the webhook has all ${all.length} (${hook.received.length} so far)`, () => hook.received.length >= all.length, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // a late duplicate would arrive now
    const seen = new Map<string, number>();
    for (const r of hook.received) seen.set(String(r.headers['webhook-id']), (seen.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    assert.equal(hook.received.length, all.length);
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'no webhook-id twice');
    assert.deepEqual(new Set(seen.keys()), new Set(all.map((r) => webhookId({ id: r.id, createdAt: r.created_at }))));

    // Each phone's incidents reached the webhook in the order the phone sent them.
    const perPhone = new Map<string, number[]>();
    for (const r of hook.received) {
      const event = (r.json.data as { event?: { mac: string; extra: { seq: string } } }).event;
      if (!event) continue;
      perPhone.set(event.mac, [...(perPhone.get(event.mac) ?? []), Number(event.extra.seq.split('-')[1])]);
    }
    assert.equal(perPhone.size, SENDERS);
    for (const [mac, seqs] of perPhone) assert.deepEqual(seqs, Array.from({ length: PER }, (_, i) => i), `${mac}'s webhooks in order`);

    // And the store knows it: outcomes of attempts made while PostgreSQL was away are stored once it is
    // back, so none of these deliveries is made again after a restart.
    const notDelivered = async () =>
      (await database.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.deliveries WHERE state <> 'delivered'`)).rows[0].n;
    await waitUntil('every delivery is stored as delivered', async () => (await notDelivered()) === 0, 15_000).catch(async () => {
      assert.fail(`${await notDelivered()} of ${all.length} deliveries are not stored as delivered`);
    });
  } finally {
    await cluster.close();
    await hook.close();
    await proxy.close();
  }
});
