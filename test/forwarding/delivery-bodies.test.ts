/**
 * What an incident's delivery sends, built at its first attempt, on a real in-memory SQLite store: the event
 * with the phone's state right after it (not the state at sending time), the event read back from the
 * store when it is no longer in memory, a note when retention deleted it first, and the call log's id in a
 * call.ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialPhoneState } from '../../src/domain/reduce.ts';
import type { CallState, PhoneState } from '../../src/domain/types.ts';
import { DeliveryBodies } from '../../src/forwarding/delivery-bodies.ts';
import { conclusionBody, type JsonShapes } from '../../src/forwarding/payloads.ts';
import type { Store, StoredDelivery } from '../../src/store/types.ts';
import { incident, memoryStore } from './helpers/parts.ts';

const MAC = '001565aa0001';
const shapes: JsonShapes = {
  event: (e) => ({ id: e.id, incident: e.incident }),
  phone: (p) => ({ mac: p.mac, dnd: p.dnd }),
  call: (mac, c) => ({ mac, call_id: c.callId }),
};

function bodiesOver(store: Store, current: PhoneState, calls: { flushed: number } = { flushed: 0 }): DeliveryBodies {
  return new DeliveryBodies({
    store,
    phones: { get: (mac) => (mac === current.mac ? current : undefined) },
    shapes,
    flushCalls: async () => void calls.flushed++,
  });
}

async function storedIncident(store: Store) {
  const [event] = await store.write({ events: [incident(MAC, 'dnd_on', 1000)], rejected: [], routes: [['crm']] });
  const [row] = await store.deliveriesDue('crm', 0, 10);
  return { event, row };
}

const dataOf = (row: StoredDelivery) => (JSON.parse(row.body!) as { data: { event: unknown; phone: unknown } }).data;

test("an incident's body has the phone's state right after the event, even if the phone changed before sending", { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const { event, row } = await storedIncident(store);
    const afterEvent = { ...initialPhoneState(MAC, 1000), dnd: true };
    const bodies = bodiesOver(store, { ...afterEvent, dnd: false, lastSeen: 2000 });
    bodies.remember(event, afterEvent);
    await bodies.prepare([row]);
    assert.deepEqual(dataOf(row), { event: shapes.event(event), phone: shapes.phone(afterEvent, event.receivedAt) });
  } finally {
    await store.close();
  }
});

test("after a restart the event is read from the store, with the phone's current state; a delivered one's body is built again", { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const { event, row } = await storedIncident(store);
    const current = { ...initialPhoneState(MAC, 1000), dnd: true };
    const bodies = bodiesOver(store, current);
    const expected = { event: shapes.event(event), phone: shapes.phone(current, event.receivedAt) };
    assert.deepEqual(JSON.parse((await bodies.bodyOf(row))!).data, expected, 'GET /api/v1/deliveries/<id> of a delivered incident');
    assert.equal(row.body, null, 'asking does not change the row');
    await bodies.prepare([row]);
    assert.deepEqual(dataOf(row), expected);
  } finally {
    await store.close();
  }
});

test('an incident whose event retention deleted before it was sent says so instead of failing', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const { event, row } = await storedIncident(store);
    await store.prune(event.receivedAt + 1, 100);
    const bodies = bodiesOver(store, initialPhoneState(MAC, 1000));
    await bodies.prepare([row]);
    const body = JSON.parse(row.body!) as { type: string; data: { event_id: number; missing: string } };
    assert.equal(body.type, 'phone.dnd_on');
    assert.equal(body.data.event_id, event.id);
    assert.match(body.data.missing, /deleted/);
  } finally {
    await store.close();
  }
});

test("a call.ended carries the call log's id of its call, and keeps it for every retry", { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const call: CallState = {
      callId: 'c-42', direction: 'incoming', remote: '1002', displayRemote: '1002', local: '1001', phase: 'ended',
      outcome: 'answered', muted: false, startedAt: 5000, answeredAt: 6000, endedAt: 9000, lastEventId: 3,
    };
    await store.write({ events: [], rejected: [], calls: [{ mac: MAC, call: { ...call, callId: 'other' } }, { mac: MAC, call }] });
    const [record] = (await store.calls({ mac: MAC, limit: 10 })).filter((c) => c.call.callId === 'c-42');
    const data = { mac: MAC, call_id: call.callId, started_at: new Date(call.startedAt).toISOString() };
    await store.write({ events: [], rejected: [], deliveries: [{ destination: 'crm', type: 'call.ended', mac: MAC, eventId: null, createdAt: 9000, body: conclusionBody('call.ended', 9000, data), dedupeKey: 'k' }] });
    const [row] = await store.deliveriesDue('crm', 0, 10);
    const calls = { flushed: 0 };
    const bodies = bodiesOver(store, initialPhoneState(MAC, 1000), calls);
    await bodies.prepare([row]);
    assert.equal(calls.flushed, 1, 'the call log is brought up to date first');
    const first = row.body;
    assert.equal((JSON.parse(first!) as { data: { id: number } }).data.id, record.id);
    await bodies.prepare([row]);
    assert.equal(row.body, first, 'a retry sends the same bytes');
    assert.equal(calls.flushed, 1);
  } finally {
    await store.close();
  }
});
