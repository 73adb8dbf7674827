/**
 * What each role of the store promises (src/store/types.ts), on SQLite and on PostgreSQL alike: one section
 * per role, each test on a fresh store. Promises tested elsewhere on both stores are not repeated here:
 * the outbox's rows, outcomes, retry and switch-off (test/forwarding/outbox-store.test.ts), commands and
 * control settings (test/control/stores.test.ts), the reports' sums (test/store/summaries.test.ts).
 */
import { after, afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { initialPhoneState } from '../../src/domain/reduce.ts';
import { openStore } from '../../src/store/open.ts';
import type { CallState, PhoneState } from '../../src/domain/types.ts';
import type { NewDelivery, NewEvent, NewRejected, Store } from '../../src/store/types.ts';
import { describeEachStore, type StoreKind } from '../stores.ts';
import { dropSchemas, pgUrl, testSchema } from './pg-optional.ts';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

/** A store of its own: SQLite in memory, or PostgreSQL in a fresh schema. */
async function freshStore(kind: StoreKind): Promise<Store> {
  if (kind === 'sqlite') return openStore(':memory:');
  const schema = testSchema('au_contract');
  schemas.push(schema);
  return openStore(pgUrl(schema));
}

const A = '001565aa0001';
const B = '001565aa0002';

/** An event that starts no call (PostgreSQL reduces events into phone states and calls as it stores them). */
const event = (mac: string, receivedAt: number, incident = 'dnd_on'): NewEvent => ({
  receivedAt, mac, incident, vars: { mac }, extra: {}, rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`), sourceIp: '10.0.0.7',
});

const refusal = (receivedAt: number): NewRejected => ({
  receivedAt, sourceIp: '10.0.0.8', status: 400, reason: 'no mac', rawTarget: Buffer.from('/actionurl/x'), method: 'GET', count: 1,
});

const call = (callId: string, startedAt: number, ended: boolean): CallState => ({
  callId, direction: 'incoming', remote: 'sip:200@pbx', displayRemote: 'Caller', local: 'sip:100@pbx', phase: ended ? 'ended' : 'ringing',
  outcome: ended ? 'answered' : 'ongoing', muted: false, startedAt, answeredAt: ended ? startedAt + 1 : null, endedAt: ended ? startedAt + 2 : null, lastEventId: 1,
});

const phone = (mac: string, lastEventId: number): PhoneState => ({ ...initialPhoneState(mac, 1_000), lastEventId });

const delivery = (destination: string, mac: string, createdAt: number, dedupeKey: string): NewDelivery => ({
  destination, type: 'call.ended', mac, eventId: null, createdAt, body: '{}', dedupeKey,
});

/** Every page of a newest-first listing, following its id cursor. */
async function allPages<T extends { id: number }>(page: (before: number | undefined) => Promise<T[]>): Promise<number[]> {
  const ids: number[] = [];
  for (let rows = await page(undefined); rows.length > 0; rows = await page(rows[rows.length - 1].id)) ids.push(...rows.map((r) => r.id));
  return ids;
}

const descending = (ids: readonly number[]) => [...ids].sort((x, y) => y - x);

describeEachStore('store roles', { timeout: 120_000 }, (kind) => {
  let store: Store;
  beforeEach(async () => {
    store = await freshStore(kind);
  });
  afterEach(() => store.close());

  test('IngestWriter and EventReads: ids increase in write order; pages newest first and replay oldest first cover every event once', async () => {
    const first = await store.write({ events: [event(A, 1_000), event(B, 1_001), event(A, 1_002)], rejected: [] });
    const second = await store.write({ events: [event(B, 1_003), event(A, 1_004)], rejected: [] });
    const written = [...first, ...second].map((e) => e.id);
    assert.deepEqual(written, [...written].sort((x, y) => x - y), 'ids in write order');
    assert.equal(new Set(written).size, written.length, 'no id twice');
    assert.equal(await store.lastEventId(), written[written.length - 1]);

    assert.deepEqual(await allPages((before) => store.events({ limit: 2, before })), descending(written));
    const ofA = [...first, ...second].filter((e) => e.mac === A).map((e) => e.id);
    assert.deepEqual(await allPages((before) => store.events({ mac: A, limit: 1, before })), descending(ofA));
    assert.deepEqual(await store.events({ macs: [], limit: 10 }), [], 'an empty group matches nothing');

    const replayed: number[] = [];
    for (let page = await store.eventsAfter(0, 2); page.length > 0; page = await store.eventsAfter(page[page.length - 1].id, 2)) {
      replayed.push(...page.map((e) => e.id));
    }
    assert.deepEqual(replayed, written);
    assert.deepEqual((await store.eventsAfter(written[1], 10, { mac: B })).map((e) => e.id), [second[0].id]);

    const byIds = await store.eventsByIds([written[0], written[3], written[4] + 1000]);
    assert.deepEqual(byIds.map((e) => e.id).sort((x, y) => x - y), [written[0], written[3]], 'only those that exist');
  });

  test('RejectedReads: refused requests page newest first, and `since` keeps the later ones', async () => {
    await store.write({ events: [], rejected: [refusal(1_000), refusal(2_000), refusal(3_000)] });
    const ids = await allPages((before) => store.rejected({ limit: 1, before }));
    assert.equal(ids.length, 3);
    assert.deepEqual(ids, descending(ids));
    assert.deepEqual((await store.rejected({ since: 2_000, limit: 10 })).map((r) => r.receivedAt), [3_000, 2_000]);
  });

  test('CallReads: calls page newest first, by phone, group and outcome; a call written again is one call', async () => {
    await store.write({ events: [], rejected: [], calls: [{ mac: A, call: call('c1', 1_000, true) }, { mac: B, call: call('c2', 2_000, false) }] });
    await store.write({ events: [], rejected: [], calls: [{ mac: A, call: call('c3', 3_000, false) }] });
    await store.write({ events: [], rejected: [], calls: [{ mac: A, call: call('c3', 3_000, true) }] });
    const ids = await allPages((before) => store.calls({ limit: 1, before }));
    assert.equal(ids.length, 3);
    assert.deepEqual(ids, descending(ids));
    assert.deepEqual((await store.calls({ mac: A, limit: 10 })).map((r) => r.call.callId), ['c3', 'c1']);
    assert.deepEqual((await store.calls({ macs: [B], limit: 10 })).map((r) => r.call.callId), ['c2']);
    assert.deepEqual((await store.calls({ macs: [], limit: 10 })), []);
    assert.deepEqual((await store.calls({ outcome: 'answered', limit: 10 })).map((r) => r.call.callId), ['c3', 'c1']);
  });

  test('PhoneReads and InventoryStore: forgetting a phone drops its state and inventory entry and remembers up to which event it was', async () => {
    const [a1, b1, a2] = await store.write({ events: [event(A, 1_000), event(B, 1_001), event(A, 1_002)], rejected: [] });
    await store.write({
      events: [], rejected: [], stateEventId: a2.id,
      phones: [phone(A, a2.id), phone(B, b1.id)],
      calls: [{ mac: A, call: call('c1', 1_000, true) }, { mac: B, call: call('c2', 1_001, true) }],
      inventory: [{ mac: A, name: 'Desk 1', location: 'Hall', groups: ['front'] }, { mac: B, name: 'Desk 2', location: '', groups: [] }],
    });
    assert.equal(await store.stateCheckpoint(), a2.id);
    assert.deepEqual((await store.loadPhones()).map((p) => p.mac).sort(), [A, B]);

    await store.write({ events: [], rejected: [], forget: [{ mac: A, upToEventId: a2.id, purge: false }] });
    assert.deepEqual((await store.loadPhones()).map((p) => p.mac), [B]);
    assert.deepEqual((await store.loadInventory()).map((e) => e.mac), [B]);
    assert.deepEqual([...(await store.forgottenPhones())], [[A, a2.id]]);
    assert.deepEqual((await store.events({ mac: A, limit: 10 })).map((e) => e.id), [a2.id, a1.id], 'without purge its events stay');
    assert.equal((await store.calls({ mac: A, limit: 10 })).length, 1, 'and its calls');

    await store.write({ events: [], rejected: [], forget: [{ mac: B, upToEventId: b1.id, purge: true }] });
    assert.deepEqual(await store.events({ mac: B, limit: 10 }), [], 'purged: its events go');
    assert.deepEqual(await store.calls({ mac: B, limit: 10 }), [], 'and its calls');
    assert.equal((await store.events({ mac: A, limit: 10 })).length, 2, "another phone's stay");
    assert.deepEqual(new Map(await store.forgottenPhones()), new Map([[A, a2.id], [B, b1.id]]));
  });

  test('Deliveries: due rows oldest first after a cursor, pages newest first by destination, and the depth per destination', async () => {
    const rows = [delivery('hook', A, 1_000, 'a'), delivery('mqtt', A, 1_001, 'b'), delivery('hook', B, 1_002, 'c'), delivery('hook', A, 1_003, 'd')];
    await store.write({ events: [], rejected: [], deliveries: rows });
    const due: number[] = [];
    for (let page = await store.deliveriesDue('hook', 0, 2); page.length > 0; page = await store.deliveriesDue('hook', page[page.length - 1].id, 2)) {
      due.push(...page.map((d) => d.id));
    }
    assert.equal(due.length, 3);
    assert.deepEqual(due, [...due].sort((x, y) => x - y));
    assert.deepEqual(await allPages((before) => store.deliveries({ destination: 'hook', limit: 1, before })), descending(due));
    assert.deepEqual(await store.outboxDepth(), { hook: 3, mqtt: 1 });
    const [firstDue] = await store.deliveriesDue('hook', 0, 1);
    await store.updateDeliveries([{ id: firstDue.id, state: 'delivered', attempts: 1, nextAt: 1_100, lastError: null, lastStatus: 200, lastAttemptAt: 1_100, deliveredAt: 1_100, body: null }]);
    assert.deepEqual(await store.outboxDepth(), { hook: 2, mqtt: 1 }, 'a delivered row is no longer counted');
    assert.deepEqual((await store.deliveries({ state: 'delivered', limit: 10 })).map((d) => d.id), [firstDue.id]);
  });

  test('Maintenance: prune deletes only rows older than the cutoff, at most a batch per table per round, and keeps ongoing calls', async () => {
    const cutoff = 5_000;
    await store.write({ events: [event(A, 1_000), event(A, 2_000), event(A, 3_000), event(A, cutoff)], rejected: [refusal(1_000), refusal(cutoff)] });
    await store.write({
      events: [], rejected: [],
      calls: [{ mac: A, call: call('old-ended', 1_000, true) }, { mac: A, call: call('old-ongoing', 1_500, false) }, { mac: A, call: call('new', cutoff, true) }],
    });
    const before = await store.counts();

    const round1 = await store.prune(cutoff, 2);
    assert.equal(round1, 2 + 1 + 1, 'two events (the batch), one refusal, one ended call');
    const round2 = await store.prune(cutoff, 2);
    assert.equal(round2, 1, 'the third old event');
    assert.equal(await store.prune(cutoff, 2), 0, 'nothing older is left');

    assert.deepEqual((await store.events({ limit: 10 })).map((e) => e.receivedAt), [cutoff], 'a row at the cutoff is not older than it');
    assert.deepEqual((await store.rejected({ limit: 10 })).map((r) => r.receivedAt), [cutoff]);
    assert.deepEqual((await store.calls({ limit: 10 })).map((r) => r.call.callId).sort(), ['new', 'old-ongoing']);
    assert.deepEqual(await store.counts(), { events: before.events - 3, phones: before.phones, calls: before.calls - 1, rejected: before.rejected - 1 }, 'phones are kept');
  });
});
