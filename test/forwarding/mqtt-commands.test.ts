/**
 * MQTT commands without a broker: what a message on a command topic asks for (and every way a careless or
 * hostile publisher gets it wrong), the burst gate that keeps a flood to one log line, and the Home Assistant
 * controls in discovery checked against Home Assistant's rules (helpers/ha-schema.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readCommandMessage, MAX_COMMAND_PAYLOAD } from '../../src/forwarding/mqtt-commands.ts';
import { BurstGate } from '../../src/forwarding/burst-gate.ts';
import { discoveryPayload } from '../../src/forwarding/ha-discovery.ts';
import type { PhoneState } from '../../src/domain/types.ts';
import { discoveryProblems } from './helpers/ha-schema.ts';

const read = (topic: string, payload = 'PRESS', retained = false) => readCommandMessage('actionurl', topic, Buffer.from(payload), retained);

describe('command topics', { timeout: 10_000 }, () => {
  test('each command topic becomes the request the REST API would take', () => {
    assert.deepEqual(read('actionurl/001565aabbcc/command/dial', '2001'), { kind: 'command', mac: '001565aabbcc', request: { command: 'dial', number: '2001' } });
    assert.deepEqual(read('actionurl/001565aabbcc/command/dial', ' *97#\n'), { kind: 'command', mac: '001565aabbcc', request: { command: 'dial', number: '*97#' } });
    assert.deepEqual(read('actionurl/001565aabbcc/command/dnd', 'ON'), { kind: 'command', mac: '001565aabbcc', request: { command: 'dnd_on' } });
    assert.deepEqual(read('actionurl/001565aabbcc/command/dnd', 'off'), { kind: 'command', mac: '001565aabbcc', request: { command: 'dnd_off' } });
    for (const c of ['answer', 'hangup', 'hold', 'unhold', 'mute', 'reboot', 'dnd_on', 'dnd_off']) {
      // Home Assistant's button sends PRESS; anything else does the same.
      for (const payload of ['PRESS', 'whatever']) {
        assert.deepEqual(read(`actionurl/001565aabbcc/command/${c}`, payload), { kind: 'command', mac: '001565aabbcc', request: { command: c } });
      }
      // An empty message clears a retained one: it must not answer, hang up or reboot.
      assert.deepEqual(read(`actionurl/001565aabbcc/command/${c}`, ''), { kind: 'ignore' });
    }
    assert.deepEqual(read('actionurl/001565aabbcc/command/keys', 'OK;F_HOLD'), { kind: 'command', mac: '001565aabbcc', request: { command: 'keys', keys: ['OK', 'F_HOLD'] } });
  });

  test('a MAC in any common spelling is the same phone', () => {
    for (const spelt of ['00:15:65:AA:BB:CC', '00-15-65-aa-bb-cc', '0015.65aa.bbcc', '001565AABBCC']) {
      const m = read(`actionurl/${spelt}/command/answer`);
      assert.equal(m.kind, 'command');
      assert.equal(m.kind === 'command' && m.mac, '001565aabbcc');
    }
  });

  test('wrong topics, payloads and flags are refused with a reason, never thrown', () => {
    const invalid = (topic: string, payload = 'PRESS', retained = false) => {
      const m = read(topic, payload, retained);
      assert.equal(m.kind, 'invalid', `${topic} ${payload}`);
      return m as Extract<typeof m, { kind: 'invalid' }>;
    };
    assert.equal(invalid('actionurl/kitchen/command/dial', '2001').why, 'bad_mac');
    assert.equal(invalid('actionurl/001565aabbcc00/command/dial', '2001').why, 'bad_mac');
    const unknown = invalid('actionurl/001565aabbcc/command/call', '2001');
    assert.equal(unknown.why, 'unknown_command');
    assert.equal(unknown.mac, '001565aabbcc');
    assert.match(unknown.reason, /unknown command "call"/);
    assert.equal(invalid('actionurl/001565aabbcc/command/__proto__').why, 'unknown_command');
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', ' ').why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', '2001&reboot=1').why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', '<script>').why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', '1'.repeat(65)).why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/dnd', 'maybe').why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/keys', 'OK;;;/etc').why, 'bad_payload');
    assert.equal(invalid('actionurl/001565aabbcc/command/answer', 'x'.repeat(MAX_COMMAND_PAYLOAD + 1)).why, 'oversized');
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', '9'.repeat(10 * 1024 * 1024)).why, 'oversized');
    // Retained: it would dial again on every reconnect.
    assert.equal(invalid('actionurl/001565aabbcc/command/dial', '2001', true).why, 'retained');
    // A reason quotes at most a little of what the publisher sent.
    assert.ok(invalid(`actionurl/${'x'.repeat(5000)}/command/dial`, '1').reason.length < 200);
  });

  test('our own result topic and topics outside the layout are not commands', () => {
    assert.deepEqual(read('actionurl/001565aabbcc/command/result', '{"status":"failed"}'), { kind: 'ignore' });
    assert.deepEqual(read('other/001565aabbcc/command/dial', '2001'), { kind: 'ignore' });
    assert.deepEqual(read('actionurl/001565aabbcc/state', '{}'), { kind: 'ignore' });
  });
});

describe('burst gate', { timeout: 10_000 }, () => {
  test('the first of a burst passes, the rest are counted until the window closes', () => {
    const g = new BurstGate(1000);
    assert.equal(g.pass(0), true);
    for (let t = 1; t < 1000; t += 10) assert.equal(g.pass(t), false);
    assert.equal(g.take(), 100);
    assert.equal(g.take(), 0);
    assert.equal(g.pass(1000), true);
  });
});

describe('Home Assistant controls in discovery', { timeout: 10_000 }, () => {
  const phone = { mac: '001565aabbcc', model: 'Yealink SIP-T46U', firmware: '66.86.0.5', ip: '10.0.0.7' } as PhoneState;
  const context = { prefix: 'actionurl', discoveryPrefix: 'homeassistant', origin: { name: 'actionurl', sw: '0.1.0' } };

  test('with commands: a DND switch, six buttons and a dial text, all publishing to the command topics', () => {
    const payload = discoveryPayload(phone, { ...context, commands: true }) as { cmps: Record<string, Record<string, unknown>> };
    assert.deepEqual(discoveryProblems(payload), []);
    const c = payload.cmps;
    assert.equal(c.dnd_switch.p, 'switch');
    assert.equal(c.dnd_switch.command_topic, 'actionurl/001565aabbcc/command/dnd');
    assert.deepEqual([c.dnd_switch.payload_on, c.dnd_switch.payload_off], ['ON', 'OFF']);
    const buttons = Object.entries(c).filter(([, v]) => v.p === 'button').map(([k, v]) => [k, v.command_topic]);
    assert.deepEqual(buttons, ['answer', 'hangup', 'hold', 'unhold', 'mute', 'reboot'].map((k) => [k, `actionurl/001565aabbcc/command/${k}`]));
    assert.equal(c.reboot.device_class, 'restart');
    assert.equal(c.reboot.entity_category, 'config');
    assert.equal(c.dial.p, 'text');
    assert.equal(c.dial.command_topic, 'actionurl/001565aabbcc/command/dial');
    // HA checks a typed number against the pattern before publishing: what it lets through, the bridge takes.
    const pattern = new RegExp(String(c.dial.pattern));
    for (const n of ['2001', '+4930123', '*97#', 'alice@pbx']) {
      assert.ok(pattern.test(n), n);
      assert.equal(read('actionurl/001565aabbcc/command/dial', n).kind, 'command', n);
    }
    for (const n of ['20 01', '2001&x=1', '1'.repeat(65)]) assert.ok(!pattern.test(n), n);
    // The pattern admits the empty value the entity holds between calls; sent, it dials nothing.
    assert.ok(pattern.test(''));
    assert.deepEqual(read('actionurl/001565aabbcc/command/dial', ''), { kind: 'ignore' });
    assert.equal(c.dial.max, 64);
  });

  test('entity ids are suggested with default_entity_id, not the deprecated object_id', () => {
    const payload = discoveryPayload(phone, { ...context, commands: true }) as { cmps: Record<string, Record<string, unknown>> };
    for (const [key, c] of Object.entries(payload.cmps)) {
      assert.equal(c.object_id, undefined, key);
      assert.equal(c.default_entity_id, `${String(c.p)}.actionurl_001565aabbcc_${key}`);
    }
    // The checker itself refuses object_id.
    const old = { ...payload, cmps: { ...payload.cmps, ringing: { ...payload.cmps.ringing, object_id: 'x' } } };
    assert.match(discoveryProblems(old).join(), /object_id is no longer read/);
  });

  test('without commands: no control entities', () => {
    const payload = discoveryPayload(phone, context) as { cmps: Record<string, { p: string }> };
    assert.deepEqual(discoveryProblems(payload), []);
    assert.deepEqual(Object.values(payload.cmps).filter((c) => ['switch', 'button', 'text'].includes(c.p)), []);
  });
});
