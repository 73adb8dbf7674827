/**
 * Remote control end to end, per vendor: the receiver sends each command to a virtual phone of that vendor
 * over HTTP, the phone's call engine acts, its Action URL reports the effect, and the command is confirmed
 * by that report.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VENDOR_IDS } from '../../src/core/vendors/index.ts';
import { decodeControlRequest, encodeCommand, targetText } from '../../src/core/control/index.ts';
import { receiver, run, setControl, virtualPhone } from './helpers.ts';

for (const vendor of VENDOR_IDS) {
  describe(`${vendor} phone`, { timeout: 120_000 }, () => {
    test('dial, far end answers, hold, resume, mute, hang up, answer an incoming call, DND: each confirmed by the phone\'s Action URL', async () => {
      const r = await receiver();
      const { phone, web, mac } = await virtualPhone(r, vendor);
      const put = await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
      assert.equal(put.status, 200);
      // The vendor is recognised from the model and MAC the phone's events carried.
      assert.equal(put.body.effective.vendor, vendor);
      assert.equal(put.body.credentials, 'set');

      const dial = await run(r, mac, { command: 'dial', number: '2001' });
      assert.equal(dial.status, 'confirmed', dial.reason);
      assert.equal(dial.confirmed_by.incident, 'outgoing_call');
      assert.equal(dial.vendor, vendor);
      assert.deepEqual(phone.state.calls.map((c) => [c.direction, c.remoteUser, c.phase]), [['outgoing', '2001', 'dialing']]);

      phone.act({ do: 'remote_answer' });
      await phone.drained();
      const hold = await run(r, mac, { command: 'hold' });
      assert.equal(hold.status, 'confirmed', hold.reason);
      assert.equal(phone.state.calls[0].phase, 'held');
      const unhold = await run(r, mac, { command: 'unhold' });
      assert.equal(unhold.status, 'confirmed', unhold.reason);
      assert.equal(phone.state.calls[0].phase, 'talking');
      const mute = await run(r, mac, { command: 'mute' });
      assert.equal(mute.status, 'confirmed', mute.reason);
      assert.equal(phone.state.calls[0].muted, true);
      const hangup = await run(r, mac, { command: 'hangup' });
      assert.equal(hangup.status, 'confirmed', hangup.reason);
      assert.equal(hangup.confirmed_by.incident, 'call_terminated');
      assert.equal(phone.state.calls.length, 0);

      phone.act({ do: 'incoming', from: '3001', name: 'Reception' });
      await phone.drained();
      const answer = await run(r, mac, { command: 'answer' });
      assert.equal(answer.status, 'confirmed', answer.reason);
      assert.equal(phone.state.calls[0].phase, 'talking');
      assert.equal((await run(r, mac, { command: 'hangup' })).status, 'confirmed');

      const dndOn = await run(r, mac, { command: 'dnd_on' });
      assert.equal(dndOn.status, 'confirmed', dndOn.reason);
      assert.equal(phone.state.dnd, true);
      const dndOff = await run(r, mac, { command: 'dnd_off' });
      assert.equal(dndOff.status, 'confirmed', dndOff.reason);
      assert.equal(phone.state.dnd, false);

      // The board shows what the phone reported: no call left, DND off.
      const shown = await r.api(`/api/v1/phones/${mac}`);
      assert.equal(shown.body.dnd, false);
      assert.deepEqual(shown.body.calls, []);
    });
  });
}

describe('what the virtual phones learn and report', { timeout: 120_000 }, () => {
  test('Grandstream: the keys F_HOLD and OK, as the docs spell them, are pressed on the phone, not refused as unknown', async () => {
    // What the receiver sends for `keys F_HOLD OK`, read by the phone side: two key presses.
    const wire = encodeCommand('grandstream', { command: 'keys', keys: ['F_HOLD', 'OK'] });
    assert.ok(!('error' in wire));
    const url = new URL(`http://phone${targetText(wire)}`);
    assert.deepEqual(decodeControlRequest('grandstream', url.pathname, url.searchParams), { operations: [{ op: 'hold_toggle' }, { op: 'ok' }] });

    const r = await receiver();
    const { phone, web, mac } = await virtualPhone(r, 'grandstream');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    phone.act({ do: 'incoming', from: '3001' });
    await phone.drained();
    // OK answers the ringing call, F_HOLD holds it.
    const out = await run(r, mac, { command: 'keys', keys: ['OK', 'F_HOLD'] });
    assert.equal(out.status, 'accepted', out.reason);
    assert.equal(phone.state.calls[0].phase, 'held');
    assert.match(web.control.records().at(-1)!.request, /^\/cgi-bin\/api-send_key\?keys=OK(:|%3A)F_HOLD&passcode=/);
  });

  test('$ip is the address the phone listens on, so the address its events report is one where it answers', async () => {
    const r = await receiver();
    const { phone, web, mac } = await virtualPhone(r, 'snom');
    assert.equal(new URL(web.url).hostname, '127.0.0.1');
    assert.equal(phone.identity.ip, '127.0.0.1');
    const shown = await r.api(`/api/v1/phones/${mac}`);
    assert.equal(shown.body.ip, '127.0.0.1');
    const events = await r.api(`/api/v1/events?mac=${mac}`);
    assert.ok(events.body.events.length > 0);
    for (const e of events.body.events) if (e.vars.ip !== undefined) assert.equal(e.vars.ip, '127.0.0.1');
  });

  test('what was learnt about a phone (Yealink\'s older path) is forgotten when its control address changes', async () => {
    const r = await receiver();
    const mac = '001565c0ffee';
    const old = await virtualPhone(r, 'yealink', { mac, remoteControl: { allow: '127.0.0.1', olderFirmware: true } });
    assert.equal((await setControl(r, mac, { url: old.web.url, username: 'admin', password: 'admin' })).status, 200);
    assert.equal((await run(r, mac, { command: 'keys', keys: ['OK'] })).status, 'accepted');
    // It answered 404 on /servlet, then took the older path: learnt.
    assert.deepEqual(old.web.control.records().map((c) => c.request.split('?')[0]), ['/servlet', '/cgi-bin/ConfigManApp.com']);
    // The phone is replaced by one with current firmware at another address.
    const current = await virtualPhone(r, 'yealink', { mac });
    assert.equal((await setControl(r, mac, { url: current.web.url })).status, 200);
    assert.equal((await run(r, mac, { command: 'keys', keys: ['OK'] })).status, 'accepted');
    assert.deepEqual(current.web.control.records().map((c) => c.request.split('?')[0]), ['/servlet']);
  });
});
