/**
 * An incident's MQTT message is made from the parts its body was just built from, not by parsing the body;
 * after a restart it is made from the stored body. Both ways must publish the same bytes, and the body must
 * be the `{type, timestamp, data: {event, phone}}` JSON the webhook docs describe. Checked over arbitrary
 * events with the API's real JSON shapes, and with event shapes whose fields a splice would get wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initialPhoneState } from '../../src/domain/reduce.ts';
import type { PhoneState } from '../../src/domain/types.ts';
import { eventMessage } from '../../src/forwarding/mqtt-topics.ts';
import { incidentBodyParts, type JsonShapes } from '../../src/forwarding/payloads.ts';
import { callJson, eventJson, phoneJson } from '../../src/server/api/json.ts';
import type { StoredEvent } from '../../src/store/types.ts';

const apiShapes: JsonShapes = { event: eventJson, phone: (p: PhoneState, at: number) => phoneJson(p, at, 3_600_000), call: callJson };

// Any code point, and what JSON escapes: quotes, backslashes, control characters, lone surrogates.
const unit = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('"', '\\', '\n', '\u0001', '\u2028', '\ud800', '\udfff'));
const text = fc.string({ unit, maxLength: 12 });
const storedEvent = fc.record({
  id: fc.integer({ min: 1, max: 2 ** 40 }),
  receivedAt: fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
  mac: fc.stringMatching(/^[0-9a-f]{12}$/),
  incident: fc.constantFrom('incoming_call', 'call_established', 'dnd_on', 'registered'),
  vars: fc.dictionary(text, text, { maxKeys: 6 }),
  extra: fc.dictionary(fc.oneof(text, fc.constantFrom('0', '17', 'timestamp', 'event_type', '__proto__')), text, { maxKeys: 4 }),
  rawTarget: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  sourceIp: fc.ipV4(),
}) satisfies fc.Arbitrary<StoredEvent>;

/** What the body is, written as one object (the webhook docs' shape). */
function documentedBody(e: StoredEvent, phone: PhoneState | undefined, shapes: JsonShapes): string {
  return JSON.stringify({
    type: `phone.${e.incident}`,
    timestamp: new Date(e.receivedAt).toISOString(),
    data: { event: shapes.event(e), phone: phone ? shapes.phone(phone, e.receivedAt) : null },
  });
}

function assertSameBothWays(e: StoredEvent, phone: PhoneState | undefined, shapes: JsonShapes): void {
  const built = incidentBodyParts(e, phone, shapes);
  assert.equal(built.text, documentedBody(e, phone, shapes));
  assert.deepEqual(eventMessage(built.text, built.parts), eventMessage(built.text));
}

test('an incident published right after its commit is the same message as one read back from the store', { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(storedEvent, fc.boolean(), (e, withPhone) => {
      assertSameBothWays(e, withPhone ? { ...initialPhoneState(e.mac, e.receivedAt), dnd: true } : undefined, apiShapes);
    }),
    { numRuns: 300 },
  );
});

test('event shapes with fields named like the message\'s own, integer fields, none, or their own JSON give the same message too', { timeout: 10_000 }, () => {
  const odd: Record<string, (e: StoredEvent) => object> = {
    'a timestamp field': (e) => ({ id: e.id, timestamp: 'the event says' }),
    'an event_type field': (e) => ({ event_type: 'other', id: e.id }),
    'an integer field': (e) => ({ mac: e.mac, 7: 'seven' }),
    'no field': () => ({}),
    'only an undefined field': () => ({ gone: undefined }),
    'its own toJSON': (e) => ({ id: e.id, toJSON: () => ({ shown: true }) }),
  };
  const e: StoredEvent = { id: 9, receivedAt: Date.UTC(2025, 0, 6), mac: '001565aa0001', incident: 'dnd_on', vars: {}, extra: {}, rawTarget: Buffer.from('/x'), sourceIp: '10.0.0.1' };
  for (const [what, event] of Object.entries(odd)) {
    const shapes = { ...apiShapes, event };
    assert.doesNotThrow(() => assertSameBothWays(e, undefined, shapes), what);
  }
});
