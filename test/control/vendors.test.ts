/**
 * Remote control end to end, per vendor: the receiver sends each command to a virtual phone of that vendor
 * over HTTP, the phone's call engine acts, its Action URL reports the effect, and the command is confirmed
 * by that report.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VENDOR_IDS } from '../../src/core/vendors/index.ts';
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
