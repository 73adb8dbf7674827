/**
 * Which destinations an event goes to, with the selections a `--forward` file gives (events, phones), and
 * conclusions stored once however often they are derived, on a real in-memory SQLite store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRouting } from '../../src/forwarding/event-routing.ts';
import { makeSelector, SELECT_ALL } from '../../src/forwarding/destinations.ts';
import type { Conclusion } from '../../src/forwarding/conclusions.ts';
import { incident, memoryStore } from './helpers/parts.ts';

const A = '001565aa0001';
const B = '001565bb0002';
const OTHER = '00a0f1000003';

function routingOf(destinations: Record<string, [events?: string[], phones?: string[]]>): EventRouting {
  const routing = new EventRouting();
  routing.refresh(Object.entries(destinations).map(([name, [events, phones]]) => ({ name, select: makeSelector(events, phones) })));
  return routing;
}

const callEnded = (mac: string, key: string): Conclusion => ({ type: 'call.ended', mac, at: 5000, eventId: null, data: { mac }, key });

test('an incident goes to each destination whose events and phones take it, in the order they are set up', { timeout: 10_000 }, () => {
  const routing = routingOf({
    everything: [],
    calls: [['incoming_call', 'call.ended']],
    'one-phone': [undefined, [A.toUpperCase().replace(/(..)(?!$)/g, '$1:')]],
    'by-pattern': [['incidents'], ['001565*']],
  });
  assert.deepEqual(routing.route(incident(A, 'incoming_call', 1)), ['everything', 'calls', 'one-phone', 'by-pattern']);
  assert.deepEqual(routing.route(incident(B, 'incoming_call', 1)), ['everything', 'calls', 'by-pattern']);
  assert.deepEqual(routing.route(incident(OTHER, 'dnd_on', 1)), ['everything']);
});

test('with every destination taking everything, every incident goes to all of them', { timeout: 10_000 }, () => {
  const routing = new EventRouting();
  routing.refresh([{ name: 'a', select: SELECT_ALL }, { name: 'b', select: SELECT_ALL }]);
  for (const mac of [A, OTHER]) assert.deepEqual(routing.route(incident(mac, 'dnd_on', 1)), ['a', 'b']);
  routing.refresh([{ name: 'b', select: SELECT_ALL }]);
  assert.deepEqual(routing.route(incident(A, 'dnd_on', 1)), ['b'], 'a destination switched off is left out');
});

test('conclusions are derived only when a destination takes them, and go to those only', { timeout: 10_000 }, () => {
  const incidentsOnly = routingOf({ raw: [['incidents']] });
  assert.equal(incidentsOnly.wantsConclusions, false);
  const routing = routingOf({ raw: [['incidents']], calls: [['call.ended']], 'b-only': [['conclusions'], [B]] });
  assert.equal(routing.wantsConclusions, true);
  const rows = routing.conclusionRows([callEnded(A, 'call.ended:1'), callEnded(B, 'call.ended:2')]);
  assert.deepEqual(rows.map((r) => [r.destination, r.mac]), [['calls', A], ['calls', B], ['b-only', B]]);
  const body = JSON.parse(rows[0].body!) as { type: string; timestamp: string; data: unknown };
  assert.deepEqual(body, { type: 'call.ended', timestamp: new Date(5000).toISOString(), data: { mac: A } });
});

test('a conclusion derived again (events replayed after a crash) is stored once per destination', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const routing = routingOf({ one: [], two: [['conclusions']] });
    const conclusion = callEnded(A, 'call.ended:call-7');
    await store.write({ events: [], rejected: [], deliveries: routing.conclusionRows([conclusion]) });
    await store.write({ events: [], rejected: [], deliveries: routing.conclusionRows([{ ...conclusion }]) });
    await store.write({ events: [], rejected: [], deliveries: routing.conclusionRows([callEnded(A, 'call.ended:call-8')]) });
    assert.deepEqual(await store.outboxDepth(), { one: 2, two: 2 });
  } finally {
    await store.close();
  }
});
