/**
 * The remote-control table and its pure functions: what goes on the wire per vendor, that the phone side
 * reads back what the server side wrote (for every vendor and command), how answers are read, when an event
 * confirms a command, allowlists, vendor recognition and the settings lines for config files.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addControlSettings, allowsAddress, confirms, CONTROL_COMMANDS, decodeControlRequest, detectVendor, encodeCommand,
  parseCommandRequest, parseControlAllowlist, phoneAnswer, pointlessBecause, readAnswer, readControlSettings,
  supportedCommands, targetText, withPasscode, type CommandRequest, type PhoneOutcome,
} from '../../src/core/control/index.ts';
import { renderConfigFile, VENDOR_IDS, type VendorId } from '../../src/core/vendors/index.ts';
import { ingestConfig } from '../../src/core/ingest-url.ts';
import { initialState, step, type Action, type HandsetState } from '../../src/phone/engine/index.ts';
import { actionForOperation } from '../../src/phone/control/operations.ts';
import { loadConfigText } from '../../src/phone/settings/config-file.ts';

const wire = (vendor: VendorId, req: CommandRequest) => {
  const t = encodeCommand(vendor, req);
  if ('error' in t) throw new Error(t.error);
  return targetText(t);
};

describe('remote-control requests on the wire', { timeout: 60_000 }, () => {
  test('each vendor\'s documented spellings', () => {
    assert.equal(wire('yealink', { command: 'answer' }), '/servlet?key=OK');
    assert.equal(wire('yealink', { command: 'dial', number: '2001' }), '/servlet?key=number=2001');
    assert.equal(wire('yealink', { command: 'keys', keys: ['F_HOLD', 'OK'] }), '/servlet?key=F_HOLD;OK');
    assert.equal(wire('snom', { command: 'dial', number: '*97#' }), '/command.htm?number=*97%23');
    assert.equal(wire('snom', { command: 'dnd_on' }), '/command.htm?key=DND');
    assert.equal(wire('snom', { command: 'reboot' }), '/advanced_update.htm?reboot=Reboot');
    assert.equal(wire('fanvil', { command: 'dial', number: '2001' }), '/cgi-bin/ConfigManApp.com?key=SPEAKER;2;0;0;1;ENTER');
    assert.equal(wire('fanvil', { command: 'hangup' }), '/cgi-bin/ConfigManApp.com?key=RELEASE');
    assert.equal(wire('grandstream', { command: 'dial', number: '2001' }), '/cgi-bin/api-make_call?phonenumber=2001&account=0');
    assert.equal(wire('grandstream', { command: 'hangup' }), '/cgi-bin/api-phone_operation?cmd=endcall');
    assert.equal(wire('grandstream', { command: 'reboot' }), '/cgi-bin/api-sys_operation?request=REBOOT');
    assert.equal(wire('akuvox', { command: 'dial', number: '2001' }), '/fcgi/do?action=MakeCall&number=2001&line=1');
    assert.equal(wire('akuvox', { command: 'dnd_off' }), '/fcgi/do?action=DNDOff');
  });

  test('the passcode is added only for vendors that take it in the query, and encoded', () => {
    const t = encodeCommand('grandstream', { command: 'hangup' });
    assert.ok(!('error' in t));
    assert.equal(targetText(withPasscode('grandstream', t, 'a&b=c')), '/cgi-bin/api-phone_operation?cmd=endcall&passcode=a%26b=c');
    const y = encodeCommand('yealink', { command: 'hangup' });
    assert.ok(!('error' in y));
    assert.equal(targetText(withPasscode('yealink', y, 'secret')), '/servlet?key=CALLEND');
  });

  /** A phone in the state where a command makes sense, with the actions that bring it there. */
  const SETUP: Partial<Record<string, Action[]>> = {
    answer: [{ do: 'incoming', from: '3001' }],
    hangup: [{ do: 'dial', number: '2001' }, { do: 'remote_answer' }],
    hold: [{ do: 'dial', number: '2001' }, { do: 'remote_answer' }],
    unhold: [{ do: 'dial', number: '2001' }, { do: 'remote_answer' }, { do: 'hold' }],
    mute: [{ do: 'dial', number: '2001' }, { do: 'remote_answer' }],
    dnd_off: [{ do: 'dnd', on: true }],
  };

  function booted(): HandsetState {
    let s = initialState({ device: { mac: '001565000001', ip: '10.0.0.1', model: 'm', firmware: 'f', hardwareVersion: 'h' }, accounts: [{ user: '100', host: 'pbx', displayName: '' }] });
    for (const a of [{ do: 'boot' }, { do: 'register' }] as Action[]) {
      const r = step(s, a);
      assert.ok(!('error' in r));
      s = r.state;
    }
    return s;
  }

  for (const vendor of VENDOR_IDS) {
    test(`${vendor}: every command the table has, read back by the phone side, fires the incident that confirms it`, () => {
      for (const command of supportedCommands(vendor)) {
        if (command === 'keys') continue;
        const req: CommandRequest = command === 'dial' ? { command, number: '2001' } : { command };
        let s = booted();
        for (const a of SETUP[command] ?? []) {
          const r = step(s, a);
          assert.ok(!('error' in r), `${command} setup`);
          s = r.state;
        }
        const t = encodeCommand(vendor, req);
        assert.ok(!('error' in t), `${vendor} ${command}`);
        const url = new URL(`http://phone${targetText(t)}`);
        const decoded = decodeControlRequest(vendor, url.pathname, url.searchParams);
        assert.ok('operations' in decoded, `${vendor} ${command}: ${JSON.stringify(decoded)}`);
        const fired: { incident: string; vars: Record<string, string> }[] = [];
        let typed = '';
        for (const op of decoded.operations) {
          const next = actionForOperation(op, s, typed);
          assert.ok(!('error' in next), `${vendor} ${command}: ${JSON.stringify(next)}`);
          typed = next.typed;
          if (!next.action) continue;
          const r = step(s, next.action);
          assert.ok(!('error' in r), `${vendor} ${command}: ${JSON.stringify(r)}`);
          s = r.state;
          fired.push(...r.incidents.map((i) => ({ incident: i.slug, vars: i.vars })));
        }
        assert.ok(fired.some((e) => confirms(req, e)), `${vendor} ${command}: fired ${fired.map((f) => f.incident).join(', ')}`);
      }
    });
  }

  test('a request the phone does not know: 404 for another path, 400 for an unknown key', () => {
    assert.deepEqual(decodeControlRequest('yealink', '/cgi-bin/other', new URLSearchParams()), { status: 404, error: 'not a control endpoint of this phone' });
    const r = decodeControlRequest('yealink', '/servlet', new URLSearchParams('key=SELF_DESTRUCT'));
    assert.ok('error' in r && r.status === 400 && /SELF_DESTRUCT/.test(r.error));
    // Older Yealink firmware's path takes the same keys.
    assert.deepEqual(decodeControlRequest('yealink', '/cgi-bin/ConfigManApp.com', new URLSearchParams('key=CALLEND')), { operations: [{ op: 'hangup' }] });
  });
});

describe('command requests', { timeout: 60_000 }, () => {
  test('accepted and refused shapes', () => {
    assert.ok('error' in parseCommandRequest({ command: 'dial', number: '+49 30' }));
    assert.deepEqual(parseCommandRequest({ command: 'dial', number: '2001' }), { command: 'dial', number: '2001' });
    assert.deepEqual(parseCommandRequest({ command: 'keys', keys: 'OK; F_HOLD' }), { command: 'keys', keys: ['OK', 'F_HOLD'] });
    assert.ok('error' in parseCommandRequest({ command: 'keys', keys: Array(33).fill('OK') }));
    assert.ok('error' in parseCommandRequest({ command: 'dial', number: 'x'.repeat(65) }));
    assert.ok('error' in parseCommandRequest([]));
    assert.ok('error' in parseCommandRequest({ command: 'reboot', number: '1' }));
    for (const c of CONTROL_COMMANDS.filter((c) => c !== 'dial' && c !== 'keys')) assert.deepEqual(parseCommandRequest({ command: c }), { command: c });
  });
});

describe('phone answers', { timeout: 60_000 }, () => {
  const outcomes: PhoneOutcome[] = ['credentials', 'locked', 'not_allowed', 'prompt', 'unknown_request'];
  for (const vendor of VENDOR_IDS) {
    test(`${vendor}: the server reads each of the virtual phone's refusals as that refusal`, () => {
      assert.deepEqual(readAnswer(vendor, phoneAnswer(vendor, 'done').status, phoneAnswer(vendor, 'done').body), { accepted: true });
      for (const o of outcomes) {
        const a = phoneAnswer(vendor, o);
        const read = readAnswer(vendor, a.status, a.body);
        assert.equal(read.accepted, false);
        assert.equal(!read.accepted && read.refusal, o, `${vendor} ${o}`);
      }
    });
  }

  test('real phones\' plainer answers', () => {
    assert.deepEqual(readAnswer('yealink', 403, 'Forbidden'), { accepted: false, refusal: 'not_allowed', detail: 'Forbidden' });
    assert.deepEqual(readAnswer('grandstream', 200, '{"response":"error","body":"failed"}'), { accepted: false, refusal: 'failed', detail: 'failed' });
    assert.deepEqual(readAnswer('grandstream', 200, '{"response":"success","body":"complete"}'), { accepted: true });
    const html = readAnswer('grandstream', 200, '<html>login</html>');
    assert.ok(!html.accepted && html.refusal === 'other');
    const boom = readAnswer('snom', 500, 'x'.repeat(500) + '\u0000<script>');
    assert.ok(!boom.accepted && boom.refusal === 'other' && boom.detail.length <= 130 && !boom.detail.includes('\u0000'));
  });
});

describe('confirmation', { timeout: 60_000 }, () => {
  test('a dial is confirmed by an outgoing call to that number only', () => {
    const dial: CommandRequest = { command: 'dial', number: '2001' };
    assert.equal(confirms(dial, { incident: 'outgoing_call', vars: { remote: 'sip:2001@pbx' } }), true);
    assert.equal(confirms(dial, { incident: 'outgoing_call', vars: { called_number: '2001' } }), true);
    assert.equal(confirms(dial, { incident: 'outgoing_call', vars: { remote: 'sip:2002@pbx' } }), false);
    assert.equal(confirms(dial, { incident: 'outgoing_call', vars: {} }), true);
    assert.equal(confirms(dial, { incident: 'incoming_call', vars: { remote: 'sip:2001@pbx' } }), false);
    assert.equal(confirms({ command: 'hangup' }, { incident: 'call_terminated', vars: {} }), true);
    assert.equal(confirms({ command: 'hangup' }, { incident: 'on_hook', vars: {} }), false);
    assert.equal(confirms({ command: 'keys', keys: ['OK'] }, { incident: 'call_established', vars: {} }), false);
  });

  test('toggle commands that would undo the phone\'s state are not sent', () => {
    const idle = { dnd: true, muted: false, calls: [] };
    assert.match(pointlessBecause({ command: 'dnd_on' }, idle) ?? '', /already on/);
    assert.equal(pointlessBecause({ command: 'dnd_off' }, idle), undefined);
    assert.match(pointlessBecause({ command: 'unhold' }, idle) ?? '', /no held call/);
    assert.equal(pointlessBecause({ command: 'hold' }, { ...idle, calls: [{ phase: 'talking' }] }), undefined);
    assert.equal(pointlessBecause({ command: 'dnd_on' }, undefined), undefined);
  });
});

describe('allowlist and vendor recognition', { timeout: 60_000 }, () => {
  test('allowlists as phones read them', () => {
    const list = (t: string) => {
      const l = parseControlAllowlist(t);
      assert.ok(!('error' in l), t);
      return l;
    };
    assert.equal(allowsAddress(list(''), '10.0.0.1'), false);
    assert.equal(allowsAddress(list('any'), '10.0.0.1'), true);
    assert.equal(allowsAddress(list('10.10.*.*'), '10.10.3.4'), true);
    assert.equal(allowsAddress(list('10.10.*.*'), '10.11.3.4'), false);
    assert.equal(allowsAddress(list('192.168.1.X, 10.0.0.5'), '192.168.1.77'), true);
    assert.equal(allowsAddress(list('10.0.0.5'), '::ffff:10.0.0.5'), true);
    assert.ok('error' in parseControlAllowlist('10.0.0.300'));
    assert.ok('error' in parseControlAllowlist('<script>'));
  });

  test('vendors from model strings and MAC prefixes', () => {
    assert.equal(detectVendor('SIP-T46U', '000000000000'), 'yealink');
    assert.equal(detectVendor('T54W', '000000000000'), 'yealink');
    assert.equal(detectVendor('GXP2170', '000000000000'), 'grandstream');
    assert.equal(detectVendor('snomD785', '000000000000'), 'snom');
    assert.equal(detectVendor('D735', '000000000000'), 'snom');
    assert.equal(detectVendor('X6U', '000000000000'), 'fanvil');
    assert.equal(detectVendor('R29C', '000000000000'), 'akuvox');
    assert.equal(detectVendor('', '000b82123456'), 'grandstream');
    assert.equal(detectVendor('Acme', '0a0b0c0d0e0f'), undefined);
  });
});

describe('settings for config files', { timeout: 60_000 }, () => {
  for (const vendor of ['yealink', 'akuvox', 'fanvil'] as const) {
    test(`${vendor}: the added lines keep the file loadable, and a virtual phone reads them back`, () => {
      const file = renderConfigFile(vendor, ingestConfig('http://10.0.0.9:8080'), { mac: '001565000001' });
      const out = addControlSettings(vendor, file.text, '10.0.0.9');
      assert.deepEqual(out.notes, []);
      const loaded = loadConfigText(out.text, { vendor });
      assert.ok(!('error' in loaded), JSON.stringify(loaded));
      // The Action URL settings are the same as without the added lines.
      const plain = loadConfigText(file.text, { vendor });
      assert.ok(!('error' in plain));
      assert.deepEqual(loaded.config, plain.config);
      assert.ok(Object.keys(loaded.config.urls).length > 10);
      const read = readControlSettings(vendor, out.text);
      assert.equal(read.allow, '10.0.0.9');
      if (vendor !== 'fanvil') assert.equal(read.prompt, false);
    });
  }

  test('Yealink lines are the documented keys', () => {
    const out = addControlSettings('yealink', '#!version:1.0.0.1\n', '10.0.0.9');
    assert.match(out.text, /^features\.action_uri_limit_ip = 10\.0\.0\.9$/m);
    assert.match(out.text, /^features\.show_action_uri_option = 0$/m);
  });

  test('Grandstream and Snom: no line, a note saying where to set it', () => {
    for (const vendor of ['grandstream', 'snom'] as const) {
      const out = addControlSettings(vendor, 'x', '10.0.0.9');
      assert.equal(out.text, 'x');
      assert.equal(out.notes.length, 1);
    }
  });
});
