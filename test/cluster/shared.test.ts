/**
 * Several receivers on one PostgreSQL act as one: whatever receiver an event reaches, every receiver answers
 * the same phone states and calls as a single receiver fed the same events, and every receiver's stream
 * carries every event, in commit order, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { openSse } from '../server/helpers/sse.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { dbUrl, getJson, ingest, startReceivers, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

const MACS = ['001565a00001', '001565a00002', '001565a00003', '001565a00004'];

/** A day of a few phones: registrations, DND, calls answered, missed, held, transferred away. */
function script(): string[] {
  const out: string[] = [];
  MACS.forEach((mac, p) => {
    out.push(`/actionurl/registered?mac=${mac}&model=T54W&firmware=96.86&local=10${p}@pbx&ip=10.0.0.${p + 1}`);
  });
  for (let round = 0; round < 6; round++) {
    MACS.forEach((mac, p) => {
      const id = `${round}`;
      const remote = `sip:2${p}${round}@pbx`;
      if ((round + p) % 3 === 0) {
        out.push(`/actionurl/incoming_call?mac=${mac}&call_id=${id}&remote=${remote}&display_remote=Ann Lee ${round}`);
        out.push(`/actionurl/call_established?mac=${mac}&call_id=${id}&remote=${remote}`);
        out.push(`/actionurl/hold?mac=${mac}&call_id=${id}`);
        out.push(`/actionurl/unhold?mac=${mac}&call_id=${id}`);
        out.push(`/actionurl/call_terminated?mac=${mac}&call_id=${id}&remote=${remote}`);
      } else if ((round + p) % 3 === 1) {
        out.push(`/actionurl/incoming_call?mac=${mac}&call_id=${id}&remote=${remote}`);
        out.push(`/actionurl/call_terminated?mac=${mac}&call_id=${id}&remote=${remote}`);
        out.push(`/actionurl/dnd_on?mac=${mac}`);
      } else {
        out.push(`/actionurl/dnd_off?mac=${mac}`);
        out.push(`/actionurl/outgoing_call?mac=${mac}&call_id=${id}&remote=${remote}`);
      }
    });
  }
  return out;
}

/** Calls as the API lists them, without the row id (which no receiver promises to agree on with SQLite). */
const callsOf = (body: any) => body.calls.map(({ id: _id, ...rest }: any) => rest);

test('three receivers on one PostgreSQL: events of the same phones sent round-robin give the same phones and calls on every receiver as one SQLite receiver; a stream client on one sees every event once, in order', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  let clock = 1_790_000_000_000;
  const now = () => clock;
  const cluster = await startReceivers(3, dbUrl(schema), { now });
  const single = await startTestReceiver({ now });
  const stream = openSse(cluster.servers[2].port, '/api/v1/stream');
  try {
    assert.equal(await stream.status, 200);
    const targets = script();
    for (let i = 0; i < targets.length; i++) {
      clock += 1000;
      // Same event, same clock, to a cluster receiver chosen round-robin and to the single receiver.
      assert.equal(await ingest(cluster.servers[i % 3].port, targets[i]), 200);
      assert.equal(await ingest(single.port, targets[i]), 200);
    }
    const expectedPhones = (await getJson(`${single.server.url}/api/v1/phones`)).phones;
    const expectedCalls = callsOf(await getJson(`${single.server.url}/api/v1/calls?limit=500`));
    assert.equal(expectedPhones.length, MACS.length);
    assert.ok(expectedCalls.length >= 12);
    for (const s of cluster.servers) {
      await waitUntil('every receiver followed every event', () => (s.ctx.follower?.position ?? 0) >= targets.length);
      assert.deepEqual((await getJson(`${s.url}/api/v1/phones`)).phones, expectedPhones, `phones on ${s.url}`);
      assert.deepEqual(callsOf(await getJson(`${s.url}/api/v1/calls?limit=500`)), expectedCalls, `calls on ${s.url}`);
      for (const mac of MACS) {
        const { recent_calls: recent, ...phone } = await getJson(`${s.url}/api/v1/phones/${mac}`);
        const { recent_calls: expectedRecent, ...expectedPhone } = await getJson(`${single.server.url}/api/v1/phones/${mac}`);
        assert.deepEqual(phone, expectedPhone, `${mac} on ${s.url}`);
        assert.deepEqual(callsOf({ calls: recent }), callsOf({ calls: expectedRecent }));
        assert.ok(recent.length > 0, `${mac} has calls`);
      }
    }
    const messages = await stream.waitFor(targets.length, 30_000);
    const ids = messages.map((m) => Number(m.id));
    assert.deepEqual(ids, Array.from({ length: targets.length }, (_, i) => i + 1), 'ids 1..n, in order, none twice');
    // What was sent to receivers 0 and 1 is on receiver 2's stream too, with the phone's variables.
    assert.equal(JSON.parse(messages[0].data).mac, MACS[0]);
    assert.equal(JSON.parse(messages[1].data).mac, MACS[1]);
  } finally {
    stream.close();
    await single.cleanup();
    await cluster.close();
  }
});

test('concurrent load on three receivers: stream clients on each see every event once, in id order; phone states equal the events replayed in id order on one receiver', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const cluster = await startReceivers(3, dbUrl(schema));
  const streams = cluster.servers.map((s) => openSse(s.port, '/api/v1/stream'));
  const single = await startTestReceiver();
  try {
    for (const s of streams) assert.equal(await s.status, 200);
    const perPhone = 40;
    // Each phone's events go to all three receivers, concurrently with every other phone's.
    await Promise.all(
      MACS.map(async (mac) => {
        for (let i = 0; i < perPhone; i++) {
          const incident = ['incoming_call', 'call_established', 'call_terminated', 'dnd_on', 'dnd_off'][i % 5];
          const target = `/actionurl/${incident}?mac=${mac}&call_id=${Math.floor(i / 5)}&remote=sip:9@pbx`;
          assert.equal(await ingest(cluster.servers[(i + mac.charCodeAt(11)) % 3].port, target), 200);
        }
      }),
    );
    const total = MACS.length * perPhone;
    for (const s of streams) {
      const ids = (await s.waitFor(total, 30_000)).map((m) => Number(m.id));
      assert.equal(ids.length, total);
      assert.equal(new Set(ids).size, total, 'none twice');
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in id order');
    }
    // A single receiver fed the stored events in id order (their own targets and times) computes the same phones.
    const store = await PostgresStore.connect(dbUrl(schema));
    const events = await store.eventsAfter(0, 10_000);
    await store.close();
    assert.equal(events.length, total);
    for (const e of events) assert.equal(await ingest(single.port, e.rawTarget.toString('latin1')), 200);
    // Arrival times differ between the live run and the replay; everything derived from the events must not.
    const strip = ({ first_seen: _f, last_seen: _l, online: _o, ...rest }: any) => rest;
    const expected = (await getJson(`${single.server.url}/api/v1/phones`)).phones.map(strip);
    for (const s of cluster.servers) {
      await waitUntil('every receiver followed every event', () => (s.ctx.follower?.position ?? 0) >= events[events.length - 1].id);
      assert.deepEqual((await getJson(`${s.url}/api/v1/phones`)).phones.map(strip), expected);
    }
  } finally {
    for (const s of streams) s.close();
    await single.cleanup();
    await cluster.close();
  }
});

test('the receiver that took an event answers with its effect right after its 200, without waiting for the stream follower', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const cluster = await startReceivers(1, dbUrl(schema), { followPollMs: 60_000 });
  const [a] = cluster.servers;
  try {
    // With the follower stopped, only the commit itself can have updated this receiver's phone states.
    await a.ctx.follower!.stop();
    assert.equal(await ingest(a.port, '/actionurl/registered?mac=001565c00001&model=T46U'), 200);
    const first = await fetch(`${a.url}/api/v1/phones/001565c00001`);
    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { model: string }).model, 'T46U');
    assert.equal(await ingest(a.port, '/actionurl/dnd_on?mac=001565c00001'), 200);
    assert.equal(((await getJson(`${a.url}/api/v1/phones/001565c00001`)) as { dnd: boolean }).dnd, true);
  } finally {
    await cluster.close();
  }
});
