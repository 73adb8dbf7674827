/**
 * Home Assistant as Home Assistant reads it: every discovery payload the receiver publishes (with and without
 * MQTT commands, for phones with and without a model, address or firmware) against HA's own rules
 * (helpers/ha-schema.ts, restated from HA core's source), and every state, event and availability message a
 * phone's events can lead to, rendered through each entity's template as HA renders it (helpers/jinja.ts)
 * and checked against what that entity accepts: a text state outside min..max or not matching its pattern
 * makes HA raise, an enum sensor value not among its options, a binary sensor or switch value that is
 * neither on nor off, a state over 255 characters, an event type not declared — each is ignored by HA.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { INCIDENTS } from '../../src/core/catalog.ts';
import { reduce } from '../../src/domain/reduce.ts';
import type { PhoneEvent, PhoneState } from '../../src/domain/types.ts';
import { discoveryPayload } from '../../src/forwarding/ha-discovery.ts';
import { deriveConclusions } from '../../src/forwarding/conclusions.ts';
import { conclusionBody, incidentBody } from '../../src/forwarding/payloads.ts';
import { availabilityTopic, bridgeAvailabilityTopic, eventMessage, eventsTopic, stateTopic } from '../../src/forwarding/mqtt-topics.ts';
import { callJson, eventJson, phoneJson } from '../../src/server/api/json.ts';
import type { StoredEvent } from '../../src/store/types.ts';
import { componentsOf, discoveryProblems, stateProblems, type Message } from './helpers/ha-schema.ts';
import { render } from './helpers/jinja.ts';

const MAC = '001565aabbcc';
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const OFFLINE_AFTER = 3_600_000;
const context = { prefix: 'actionurl', discoveryPrefix: 'homeassistant', origin: { name: 'actionurl', sw: '0.1.0', url: 'https://example.com/actionurl' } };
const shapes = { event: eventJson, phone: (p: PhoneState, at: number) => phoneJson(p, at, OFFLINE_AFTER), call: callJson };

/** The messages the bridge publishes for a phone in this state (retained state and availability). */
function stateMessages(p: PhoneState, now: number): Message[] {
  const json = phoneJson(p, now, OFFLINE_AFTER);
  return [
    { topic: stateTopic('actionurl', p.mac), payload: JSON.stringify(json), retained: true },
    { topic: availabilityTopic('actionurl', p.mac), payload: json.presence === 'offline' ? 'offline' : 'online', retained: true },
  ];
}

const stored = (e: PhoneEvent): StoredEvent => ({ ...e, extra: {}, rawTarget: Buffer.from(`/actionurl/${e.incident}`) });

/** A phone's events through the reducer, and every message the bridge would publish on the way. */
function messagesOf(events: readonly PhoneEvent[]): { state: PhoneState; messages: Message[] } {
  let state: PhoneState | undefined;
  const messages: Message[] = [{ topic: bridgeAvailabilityTopic('actionurl'), payload: 'online', retained: true }];
  for (const e of events) {
    const before = state;
    const r = reduce(state, e);
    state = r.state;
    const incident = eventMessage(incidentBody(stored(e), state, shapes));
    messages.push({ topic: eventsTopic('actionurl', MAC), payload: incident.payload, retained: false });
    for (const c of deriveConclusions(before, state, r.changedCalls, stored(e), OFFLINE_AFTER, shapes, e.receivedAt)) {
      messages.push({ topic: eventsTopic('actionurl', MAC), payload: eventMessage(conclusionBody(c.type, c.at, c.data)).payload, retained: false });
    }
    messages.push(...stateMessages(state, e.receivedAt));
  }
  // And the same phone an hour and more later, offline.
  if (state) messages.push(...stateMessages(state, state.lastSeen + OFFLINE_AFTER + 1));
  return { state: state!, messages };
}

const call = (callId: string, remote: string, displayRemote = 'Alice') => ({ call_id: callId, remote, display_remote: displayRemote, local: 'sip:100@pbx.example.com' });
const DEVICE = { mac: MAC, ip: '10.0.0.7', model: 'SIP-T46U', firmware: '66.86.0.5' };

function eventsOf(steps: readonly (readonly [string, Record<string, string>?])[]): PhoneEvent[] {
  return steps.map(([incident, vars = {}], i) => ({ id: i + 1, receivedAt: T0 + i * 1000, mac: MAC, incident, vars: { ...DEVICE, ...vars }, sourceIp: '10.0.0.7' }));
}

const payloads = (p: PhoneState) => [discoveryPayload(p, context), discoveryPayload(p, { ...context, commands: true })];

describe('the checker knows HA\'s rules (so a pass means something)', { timeout: 10_000 }, () => {
  const good = () => ({
    dev: { ids: ['x1'], name: 'Phone' },
    o: { name: 'tool', sw: '1.0', url: 'https://example.com' },
    stat_t: 'p/x1/state',
    cmps: {
      t: { p: 'text', uniq_id: 'x1_t', cmd_t: 'p/x1/set', min: 1, max: 4, ptrn: '[0-9]+', val_tpl: '{{ value_json.n }}' },
      s: { p: 'sensor', uniq_id: 'x1_s', dev_cla: 'enum', ops: ['a', 'b'], val_tpl: '{{ value_json.s }}' },
      b: { p: 'binary_sensor', uniq_id: 'x1_b', val_tpl: "{{ 'ON' if value_json.on else 'OFF' }}" },
      e: { p: 'event', uniq_id: 'x1_e', evt_typ: ['ring'], stat_t: 'p/x1/event' },
      sw: { p: 'switch', uniq_id: 'x1_sw', cmd_t: 'p/x1/sw', stat_on: 'yes', stat_off: 'no', val_tpl: '{{ value_json.sw }}' },
    },
  });
  const state = (json: unknown): Message => ({ topic: 'p/x1/state', payload: JSON.stringify(json), retained: true });

  test('a valid payload passes, abbreviations and shared options included', () => {
    assert.deepEqual(discoveryProblems(good()), []);
    assert.deepEqual(stateProblems(good(), state({ n: '12', s: 'a', on: true, sw: 'yes' })), []);
    assert.deepEqual(stateProblems(good(), { topic: 'p/x1/event', payload: '{"event_type":"ring"}', retained: false }), []);
  });

  test('what HA refuses in the payload', () => {
    const cases: [string, (g: ReturnType<typeof good>) => unknown, RegExp][] = [
      ['no origin', (g) => ({ ...g, o: undefined }), /origin is required/],
      ['an origin without a name', (g) => ({ ...g, o: { sw: '1' } }), /origin\.name is required/],
      ['a key the device payload does not take', (g) => ({ ...g, retain: true }), /retain: not a key HA takes/],
      ['a device without identifiers or connections', (g) => ({ ...g, dev: { name: 'x' } }), /at least one of identifiers and connections/],
      ['a device key HA does not know', (g) => ({ ...g, dev: { ...g.dev, vendor: 'x' } }), /device\.vendor/],
      ['min above max', (g) => ({ ...g, cmps: { ...g.cmps, t: { ...g.cmps.t, min: 5 } } }), /min must be <= max/],
      ['max above 255', (g) => ({ ...g, cmps: { ...g.cmps, t: { ...g.cmps.t, max: 256 } } }), /max text length must be <= 255/],
      ['a text mode HA lacks', (g) => ({ ...g, cmps: { ...g.cmps, t: { ...g.cmps.t, mode: 'number' } } }), /mode: one of text, password/],
      ['options without device_class enum', (g) => ({ ...g, cmps: { ...g.cmps, s: { ...g.cmps.s, dev_cla: undefined } } }), /options need device_class enum/],
      ['an event without event_types', (g) => ({ ...g, cmps: { ...g.cmps, e: { p: 'event', uniq_id: 'x1_e' } } }), /event_types is required/],
      ['a component without unique_id', (g) => ({ ...g, cmps: { ...g.cmps, b: { p: 'binary_sensor' , name: 'b' } } }), /b: unique_id is required/],
      ['a platform HA lacks', (g) => ({ ...g, cmps: { ...g.cmps, q: { p: 'gauge', uniq_id: 'q' } } }), /platform "gauge" is not supported/],
      ['a wildcard in a command topic', (g) => ({ ...g, cmps: { ...g.cmps, sw: { ...g.cmps.sw, cmd_t: 'p/+/sw' } } }), /command_topic: a topic to publish to has no/],
      ['object_id', (g) => ({ ...g, cmps: { ...g.cmps, b: { ...g.cmps.b, object_id: 'x' } } }), /object_id is no longer read/],
      ['a key the platform drops', (g) => ({ ...g, cmps: { ...g.cmps, b: { ...g.cmps.b, payload_press: 'X' } } }), /payload_press: not a key of this platform/],
      ['an entity id of another platform', (g) => ({ ...g, cmps: { ...g.cmps, b: { ...g.cmps.b, def_ent_id: 'sensor.x1_b' } } }), /default_entity_id "sensor\.x1_b" is not a valid binary_sensor entity id/],
      ['an entity id HA refuses', (g) => ({ ...g, cmps: { ...g.cmps, b: { ...g.cmps.b, def_ent_id: 'binary_sensor.X1__b' } } }), /is not a valid binary_sensor entity id/],
      ['a template outside what the checker renders', (g) => ({ ...g, cmps: { ...g.cmps, b: { ...g.cmps.b, val_tpl: '{{ value | upper }}' } } }), /value_template: not a template/],
    ];
    for (const [what, change, expected] of cases) assert.match(discoveryProblems(change(good())).join('\n'), expected, what);
  });

  test('what HA ignores or raises on when a message arrives', () => {
    const cases: [string, unknown, RegExp][] = [
      ['a text value shorter than min', { n: '', s: 'a', on: true, sw: 'yes' }, /t \(text\).*shorter than min 1/],
      ['a text value longer than max', { n: '12345', s: 'a', on: true, sw: 'yes' }, /longer than max 4/],
      ['a text value not matching the pattern', { n: 'ab', s: 'a', on: true, sw: 'yes' }, /does not match the pattern/],
      ['an enum value not among the options', { n: '1', s: 'c', on: true, sw: 'yes' }, /s \(sensor\).*not among the options/],
      ['a switch value that is neither', { n: '1', s: 'a', on: true, sw: 'ON' }, /sw \(switch\).*"ON" is none of yes, no, None/],
      ['a missing key', { n: '1', s: 'a', on: true }, /undefined value/],
    ];
    for (const [what, json, expected] of cases) assert.match(stateProblems(good(), state(json)).join('\n'), expected, what);
    const long = { ...good(), cmps: { s: { p: 'sensor', uniq_id: 's', val_tpl: '{{ value_json.s }}' } } };
    assert.match(stateProblems(long, state({ s: 'x'.repeat(256) })).join(), /256 characters: over 255/);
    assert.deepEqual(stateProblems(long, state({ s: 'ü'.repeat(255) })), [], 'HA counts characters, not bytes or UTF-16 units');
    const ev = (payload: string, retained = false) => stateProblems(good(), { topic: 'p/x1/event', payload, retained }).join();
    assert.match(ev('{"event_type":"knock"}'), /not among event_types/);
    assert.match(ev('{"type":"ring"}'), /no event_type/);
    assert.match(ev('ring'), /not JSON/);
    assert.equal(ev('{"event_type":"knock"}', true), '', 'a retained message is not an event');
    const avty = { ...good(), avty: [{ t: 'p/x1/avail' }] };
    assert.match(stateProblems(avty, { topic: 'p/x1/avail', payload: 'up', retained: true }).join(), /availability is "online" or "offline"/);
  });

  test('templates render as Jinja does in HA', () => {
    const r = (tpl: string, json: unknown) => render(tpl, JSON.stringify(json)).text;
    assert.equal(r("{{ 'ON' if (value_json.a) else 'OFF' }}", { a: [] }), 'OFF', 'an empty list is false');
    assert.equal(r("{{ 'ON' if (value_json.a) else 'OFF' }}", { a: '0' }), 'ON', "'0' is true");
    assert.equal(r('{{ value_json.a }}', { a: null }), 'None');
    assert.equal(r('{{ value_json.a }}', { a: true }), 'True');
    assert.equal(r("{{ value_json.a in ['x', 'y'] }}", { a: 'y' }), 'True');
    assert.equal(r('{{ value_json.a[:3] }}', { a: '😀😀😀😀' }), '😀😀😀', 'slices by code point');
    assert.equal(r('{{ value_json.a }}', { a: '  x \n' }), 'x', 'HA strips the output');
    assert.equal(render('{{ value_json.b }}', '{}').undefinedUsed, true);
    assert.throws(() => r('{{ value_json.a[0].b }}', { a: [] }), /undefined/);
    assert.throws(() => r('{{ value_json.items }}', { items: 1 }), /method/);
  });
});

describe('the template renderer agrees with Jinja itself', { timeout: 60_000 }, () => {
  // A cross-check of helpers/jinja.ts where Python's Jinja2 is installed (HA renders with Jinja2 in a
  // sandboxed environment, then strips the text); elsewhere the rules above stand on their own.
  const RENDER = [
    'import json, sys',
    'from jinja2.sandbox import ImmutableSandboxedEnvironment',
    'env = ImmutableSandboxedEnvironment()',
    'out = []',
    'for t, p in json.load(sys.stdin):',
    '    out.append(env.from_string(t).render(value=p, value_json=json.loads(p)).strip())',
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const probe = spawnSync('python3', ['-c', 'import jinja2.sandbox'], { encoding: 'utf8' });

  test('every template of the payloads, over the states of a fuzzed run', (t) => {
    if (probe.status !== 0) return t.skip('python3 with jinja2 is not installed');
    const { state, messages } = messagesOf(eventsOf([
      ['registered', { active_user: '100', active_host: 'pbx.example.com' }],
      ['incoming_call', call('1', 'sip:2001@pbx.example.com', '  Jörg 😀 Müller ')],
      ['call_established', call('1', 'sip:2001@pbx.example.com')],
      ['mute'],
      ['dnd_on'],
      ['incoming_call', call('2', `sip:${'9'.repeat(300)}@pbx`, 'N'.repeat(300))],
      ['call_terminated', call('1', 'sip:2001@pbx.example.com')],
    ]));
    const pairs: [string, string][] = [];
    for (const c of componentsOf(discoveryPayload(state, { ...context, commands: true }))) {
      if (typeof c.config.value_template !== 'string') continue;
      for (const m of messages) if (m.topic === c.config.state_topic) pairs.push([c.config.value_template, m.payload]);
    }
    assert.ok(pairs.length > 50);
    const jinja = spawnSync('python3', ['-c', RENDER], { input: JSON.stringify(pairs), encoding: 'utf8' });
    assert.equal(jinja.status, 0, jinja.stderr);
    const expected = JSON.parse(jinja.stdout) as string[];
    assert.deepEqual(pairs.map(([tpl, payload]) => render(tpl, payload).text), expected);
  });
});

describe('Home Assistant takes every discovery payload the receiver publishes', { timeout: 30_000 }, () => {
  test('phones with and without model, address and firmware, with and without commands', () => {
    const phones: Partial<PhoneState>[] = [
      { model: 'SIP-T46U', firmware: '66.86.0.5', ip: '10.0.0.7' },
      { model: 'Yealink SIP-T46U', firmware: '66.86.0.5', ip: '10.0.0.7' },
      { model: '', firmware: '', ip: '' },
      { model: 'X4U', firmware: '1.0', ip: 'fe80::1' },
      { model: '<script>'.repeat(32), firmware: 'x'.repeat(256), ip: '10.0.0.7' },
      // Anyone can send any text as $ip: HA refuses the whole device for a link that is not a URL.
      { ip: '"Alice" <sip:2001@10.0.0.9>' },
      { ip: 'fe80::1%eth0' },
      { ip: '10.0.0.7/../admin' },
    ];
    for (const extra of phones) {
      const p = { ...reduce(undefined, eventsOf([['registered']])[0]).state, ...extra };
      for (const payload of payloads(p)) assert.deepEqual(discoveryProblems(payload), [], JSON.stringify(extra));
    }
  });
});

describe('the device as Home Assistant lists it', { timeout: 10_000 }, () => {
  const dev = (extra: Partial<PhoneState>) => {
    const p = { ...reduce(undefined, eventsOf([['registered']])[0]).state, ...extra };
    return (discoveryPayload(p, context) as { dev: Record<string, unknown> }).dev;
  };

  test('maker from the model or the MAC, named "<maker> <model> <MAC>" (docs/forwarding.md)', () => {
    // Yealink phones report the bare model; the MAC prefix 00:15:65 is Yealink's.
    assert.deepEqual([dev({ model: 'SIP-T46U' }).manufacturer, dev({ model: 'SIP-T46U' }).name], ['Yealink', 'Yealink SIP-T46U 00:15:65:aa:bb:cc']);
    assert.equal(dev({ model: 'SIP-T46U' }).model, 'SIP-T46U');
    // A model that already names the maker is not named twice.
    assert.equal(dev({ model: 'Yealink SIP-T46U' }).name, 'Yealink SIP-T46U 00:15:65:aa:bb:cc');
    assert.deepEqual([dev({ mac: '0c383e010203', model: 'X4U' }).manufacturer, dev({ mac: '0c383e010203', model: 'X4U' }).name], ['Fanvil', 'Fanvil X4U 0c:38:3e:01:02:03']);
    assert.equal(dev({ mac: '000b82010203', model: '' }).name, 'Grandstream 00:0b:82:01:02:03');
    assert.equal(dev({ ip: '10.0.0.7' }).configuration_url, 'http://10.0.0.7/');
    assert.equal(dev({ ip: 'fe80::1' }).configuration_url, 'http://[fe80::1]/');
    assert.equal(dev({ ip: 'pbx.example.com/x' }).configuration_url, undefined, 'only an address links to the phone');
    // Nothing says who made it: no manufacturer rather than a made-up one.
    assert.equal(dev({ mac: '020000010203', model: '' }).manufacturer, undefined);
    assert.equal(dev({ mac: '020000010203', model: '' }).name, 'Phone 02:00:00:01:02:03');
  });
});

describe('every state a phone can be in is one Home Assistant accepts', { timeout: 120_000 }, () => {
  const check = (events: PhoneEvent[]) => {
    const { state, messages } = messagesOf(events);
    const problems = payloads(state).flatMap((payload) => [...discoveryProblems(payload), ...messages.flatMap((m) => stateProblems(payload, m))]);
    assert.deepEqual([...new Set(problems)], []);
  };

  test('idle, then a call from a SIP URI answered and ended, then one dialled', () => {
    check(eventsOf([
      ['registered', { active_user: '100', active_host: 'pbx.example.com' }],
      ['incoming_call', call('1', 'sip:2001@pbx.example.com', 'Jörg Müller')],
      ['call_established', call('1', 'sip:2001@pbx.example.com', 'Jörg Müller')],
      ['hold', call('1', 'sip:2001@pbx.example.com')],
      ['call_terminated', call('1', 'sip:2001@pbx.example.com')],
      ['outgoing_call', call('2', '+49 30 1234-5')],
      ['call_established', call('2', '+49 30 1234-5')],
      ['dnd_on'],
      ['call_terminated', call('2', '+49 30 1234-5')],
      // Texts as long as the receiver keeps them (256 characters): over HA's longest state.
      ['incoming_call', call('3', `sip:${'9'.repeat(300)}@pbx`, 'N'.repeat(300))],
    ]));
  });

  test('every text a phone can put in a call or its own details (fuzzed), through every incident', () => {
    const slugs = INCIDENTS.map((i) => i.slug);
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.constantFrom('', 'sip:2001@pbx.example.com', '2001', '"Alice" <sip:2001@10.0.0.9>', 'sip:+4930123@pbx;user=phone', 'tel:+4930123', 'anonymous', ' 2001 ', '2001@10.0.0.9:5060'),
    );
    const device = fc.record({ ip: text, model: text, firmware: text });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...slugs), fc.constantFrom('1', '2', '3'), text, text, device), { minLength: 1, maxLength: 12 }), (steps) => {
        check(eventsOf(steps.map(([slug, id, remote, name, dev]) => [slug, { ...dev, ...call(id, remote, name) }] as const)));
      }),
      { numRuns: 150, includeErrorInReport: true },
    );
  });

  test('the dial entity is set up as HA sees it: a text that publishes to the dial command', () => {
    const p = reduce(undefined, eventsOf([['registered']])[0]).state;
    const dial = componentsOf(discoveryPayload(p, { ...context, commands: true })).find((c) => c.key === 'dial');
    assert.equal(dial?.platform, 'text');
    assert.equal(dial?.config.command_topic, 'actionurl/001565aabbcc/command/dial');
  });
});
