import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step, advance, nextDeadline } from '../../src/phone/engine/index.ts';
import type { Action, FiredIncident, HandsetState } from '../../src/phone/engine/index.ts';
import { DEVICE, freshPhone, readyPhone, run, slugs } from './engine-helpers.ts';

const OUT_TO = 'sip:2002@pbx.example.com';

function talkingOutgoing(): HandsetState {
  return run(readyPhone(), [{ do: 'dial', number: '2002' }, { do: 'remote_answer' }]).state;
}

function talkingIncoming(from = 'sip:3001@10.0.0.9', name = 'Bob'): HandsetState {
  return run(readyPhone(), [{ do: 'incoming', from, name }, { do: 'answer' }]).state;
}

const only = (incidents: FiredIncident[], slug: string) => incidents.filter((i) => i.slug === slug);

test('boot: setup_completed, ip_change, then registered per account', { timeout: 60_000 }, () => {
  const r = run(freshPhone([
    { user: '1001', host: 'pbx.example.com', displayName: 'Alice' },
    { user: '1002', host: 'pbx2.example.com', displayName: '' },
  ]), [{ do: 'boot' }, { do: 'register' }]);
  assert.deepEqual(slugs(r.incidents), ['setup_completed', 'ip_change', 'registered', 'registered']);
  const [setup, ip, reg1, reg2] = r.incidents;
  assert.deepEqual(setup.vars, { mac: DEVICE.mac, ip: DEVICE.ip, model: 'T46U', firmware: '108.86.0.45', hardware_version: '1.0.0.0' });
  assert.equal(ip.vars.ip, DEVICE.ip);
  assert.equal(reg1.vars.active_url, 'sip:1001@pbx.example.com');
  assert.equal(reg1.vars.active_user, '1001');
  assert.equal(reg2.vars.active_host, 'pbx2.example.com');
  assert.equal(reg2.vars.active_user, '1002');
  assert.ok(!('remote' in reg1.vars) && !('call_id' in reg1.vars), 'account incidents fill no call variables');
});

test('boot with a failing registrar: register_failed; the account stays unregistered', { timeout: 60_000 }, () => {
  const r = run(freshPhone(), [{ do: 'boot' }, { do: 'register_fail' }]);
  assert.deepEqual(slugs(r.incidents), ['setup_completed', 'ip_change', 'register_failed']);
  assert.equal(r.state.accounts[0].registered, false);
  assert.deepEqual(slugs(run(r.state, [{ do: 'register' }, { do: 'unregister' }]).incidents), ['registered', 'unregistered']);
});

test('outgoing call answered, handset: the documented order and the variables of the call', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [
    { do: 'offhook' }, { do: 'dial', number: '2002' }, { do: 'remote_answer' }, { do: 'onhook' },
  ]);
  assert.deepEqual(slugs(r.incidents), [
    'off_hook', 'idle_to_busy', 'outgoing_call', 'call_established', 'on_hook', 'call_terminated', 'busy_to_idle',
  ]);
  const [offHook, idleToBusy, outgoing, established, , terminated] = r.incidents;
  assert.ok(!('remote' in offHook.vars), 'hook incidents carry no call variables');
  assert.equal(idleToBusy.vars.remote, '', '$remote is empty outside calls');
  assert.equal(outgoing.vars.remote, OUT_TO);
  assert.equal(outgoing.vars.display_remote, '2002', 'display_remote falls back to the remote user part');
  assert.equal(outgoing.vars.display_local, 'Alice');
  assert.equal(outgoing.vars.local, 'sip:1001@pbx.example.com');
  assert.equal(outgoing.vars.called_number, '2002');
  assert.equal(outgoing.vars.call_direction, 'outgoing');
  assert.ok(/^\d+$/.test(outgoing.vars.call_id));
  assert.equal(established.vars.call_id, outgoing.vars.call_id, '$call_id is stable for the call');
  assert.equal(terminated.vars.call_id, outgoing.vars.call_id);
  assert.equal(r.state.busy, false);
  assert.equal(r.state.calls.length, 0);
});

test('outgoing call: the far end hangs up first, then the handset goes down', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [
    { do: 'offhook' }, { do: 'dial', number: '2002' }, { do: 'remote_answer' }, { do: 'remote_hangup' }, { do: 'onhook' },
  ]);
  assert.deepEqual(slugs(r.incidents), [
    'off_hook', 'idle_to_busy', 'outgoing_call', 'call_established', 'call_terminated', 'busy_to_idle', 'on_hook',
  ]);
});

test('outgoing call on the speaker, far end busy: no hook incidents', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [{ do: 'dial', number: 'sip:2002@other.example.net' }, { do: 'remote_busy' }]);
  assert.deepEqual(slugs(r.incidents), ['idle_to_busy', 'outgoing_call', 'call_terminated', 'busy_to_idle']);
  assert.equal(r.incidents[1].vars.remote, 'sip:2002@other.example.net');
  assert.equal(r.incidents[0].vars.call_id, r.incidents[1].vars.call_id, 'idle_to_busy reports the call that made the phone busy');
});

test('incoming call answered by lifting the handset', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [
    { do: 'incoming', from: 'sip:3001@10.0.0.9', name: 'Bob Smith' }, { do: 'offhook' }, { do: 'onhook' },
  ]);
  assert.deepEqual(slugs(r.incidents), [
    'incoming_call', 'off_hook', 'answer_new_incoming_call', 'idle_to_busy', 'call_established',
    'on_hook', 'call_terminated', 'busy_to_idle',
  ]);
  const incoming = r.incidents[0];
  assert.equal(incoming.vars.remote, 'sip:3001@10.0.0.9');
  assert.equal(incoming.vars.display_remote, 'Bob Smith');
  assert.equal(incoming.vars.called_number, '1001');
  assert.equal(incoming.vars.call_direction, 'incoming');
});

test('incoming call answered on the speaker: no off_hook', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [{ do: 'incoming', from: '3001' }, { do: 'answer' }, { do: 'hangup' }]);
  assert.deepEqual(slugs(r.incidents), [
    'incoming_call', 'answer_new_incoming_call', 'idle_to_busy', 'call_established', 'call_terminated', 'busy_to_idle',
  ]);
  assert.equal(r.incidents[0].vars.remote, 'sip:3001@pbx.example.com', 'a bare number is at the account\'s server');
  assert.equal(r.incidents[0].vars.display_remote, '3001');
});

test('incoming call missed: a ringing call does not make the phone busy', { timeout: 60_000 }, () => {
  const ringing = run(readyPhone(), [{ do: 'incoming', from: '3001', name: 'Bob' }]);
  assert.equal(ringing.state.busy, false);
  const r = run(ringing.state, [{ do: 'remote_cancel' }]);
  assert.deepEqual(slugs([...ringing.incidents, ...r.incidents]), ['incoming_call', 'missed_call']);
  assert.equal(r.incidents[0].vars.call_id, ringing.incidents[0].vars.call_id);
  assert.equal(r.incidents[0].vars.display_remote, 'Bob');
});

test('incoming call rejected', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [{ do: 'incoming', from: '3001' }, { do: 'reject' }]);
  assert.deepEqual(slugs(r.incidents), ['incoming_call', 'reject_incoming_call']);
  assert.equal(r.state.calls.length, 0);
});

test('always forward: the switch fires its own incident; calls are forwarded without ringing', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [
    { do: 'forward', kind: 'always', on: true, target: '5000' },
    { do: 'incoming', from: 'sip:3001@10.0.0.9', name: 'Carol' },
    { do: 'forward', kind: 'always', on: false },
  ]);
  assert.deepEqual(slugs(r.incidents), ['always_fwd_on', 'forward_incoming_call', 'always_fwd_off']);
  assert.equal(r.incidents[0].vars.active_user, '1001');
  assert.ok(!('remote' in r.incidents[0].vars), 'switch incidents carry no call variables');
  assert.equal(r.incidents[1].vars.display_remote, 'Carol');
  assert.equal(r.incidents[1].vars.remote, 'sip:3001@10.0.0.9');
  assert.equal(r.state.calls.length, 0);
  assert.equal(r.state.busy, false);
});

test('DND: its own on/off incidents; calls it refuses fire nothing, not even incoming_call', { timeout: 60_000 }, () => {
  const on = run(readyPhone(), [{ do: 'dnd', on: true }, { do: 'incoming', from: '3001' }]);
  assert.deepEqual(slugs(on.incidents), ['dnd_on']);
  assert.deepEqual(step(on.state, { do: 'answer' }), { error: 'no ringing call to answer' });
  assert.deepEqual(slugs(run(on.state, [{ do: 'dnd', on: false }]).incidents), ['dnd_off']);
  assert.deepEqual(step(on.state, { do: 'dnd', on: true }), { error: 'DND is already on' });
});

test('busy forward: forwards only while the phone is busy; the first call is the one reported', { timeout: 60_000 }, () => {
  const idle = run(readyPhone(), [{ do: 'forward', kind: 'busy', on: true, target: '5000' }, { do: 'incoming', from: '3001' }]);
  assert.deepEqual(slugs(idle.incidents), ['busy_fwd_on', 'incoming_call']);

  const busy = run(talkingOutgoing(), [
    { do: 'forward', kind: 'busy', on: true, target: '5000' },
    { do: 'incoming', from: '3001', name: 'Dave' },
  ]);
  assert.deepEqual(slugs(busy.incidents), ['busy_fwd_on', 'forward_incoming_call']);
  assert.equal(busy.incidents[1].vars.remote, OUT_TO, 'firmware reports the first call when several exist');
  assert.equal(busy.state.calls.length, 1);
  assert.deepEqual(slugs(run(busy.state, [{ do: 'forward', kind: 'busy', on: false }]).incidents), ['busy_fwd_off']);
});

test('no-answer forward: the call rings, then is forwarded after the ring time', { timeout: 60_000 }, () => {
  const on = run(readyPhone(), [{ do: 'forward', kind: 'no_answer', on: true, target: '5000' }]);
  assert.deepEqual(slugs(on.incidents), ['no_answer_fwd_on']);
  const ringing = run(on.state, [{ do: 'incoming', from: '3001' }], 1_000);
  assert.deepEqual(slugs(ringing.incidents), ['incoming_call']);
  const due = nextDeadline(ringing.state);
  assert.equal(due, 1_000 + ringing.state.noAnswerMs);
  assert.deepEqual(advance(ringing.state, due! - 1).incidents, []);
  const fwd = advance(ringing.state, due!);
  assert.deepEqual(slugs(fwd.incidents), ['forward_incoming_call']);
  assert.equal(fwd.incidents[0].vars.call_id, ringing.incidents[0].vars.call_id);
  assert.equal(fwd.state.calls.length, 0);
  assert.equal(nextDeadline(fwd.state), null);
  assert.deepEqual(slugs(run(fwd.state, [{ do: 'forward', kind: 'no_answer', on: false }]).incidents), ['no_answer_fwd_off']);
});

test('a call answered before the ring time is not forwarded', { timeout: 60_000 }, () => {
  const s = run(readyPhone(), [{ do: 'forward', kind: 'no_answer', on: true, target: '5000' }, { do: 'incoming', from: '3001' }, { do: 'answer' }]).state;
  assert.deepEqual(advance(s, 1e9).incidents, []);
});

test('hold and unhold inside a call; the phone stays busy', { timeout: 60_000 }, () => {
  const r = run(talkingOutgoing(), [{ do: 'hold' }, { do: 'unhold' }]);
  assert.deepEqual(slugs(r.incidents), ['hold', 'unhold']);
  assert.equal(r.incidents[0].vars.remote, OUT_TO);
  assert.equal(r.state.busy, true);
  assert.deepEqual(step(r.state, { do: 'unhold' }), { error: 'no held call to resume' });
});

test('mute and unmute; muting twice is refused', { timeout: 60_000 }, () => {
  const r = run(talkingIncoming(), [{ do: 'mute' }]);
  assert.deepEqual(slugs(r.incidents), ['mute']);
  assert.deepEqual(step(r.state, { do: 'mute' }), { error: 'the call is already muted' });
  assert.deepEqual(slugs(run(r.state, [{ do: 'unmute' }]).incidents), ['unmute']);
});

for (const ok of [true, false]) {
  test(`blind transfer ${ok ? 'succeeds' : 'fails'}`, { timeout: 60_000 }, () => {
    const r = run(talkingIncoming(), [{ do: 'transfer', mode: 'blind', target: '4001' }, { do: 'transfer_result', ok }]);
    assert.deepEqual(slugs(r.incidents), [
      'transfer_call', 'blind_transfer_call', ok ? 'transfer_finished' : 'transfer_failed', 'call_terminated', 'busy_to_idle',
    ]);
    assert.equal(r.incidents[0].vars.remote, 'sip:3001@10.0.0.9');
    assert.equal(r.state.calls.length, 0);
  });

  test(`attended transfer ${ok ? 'succeeds' : 'fails'}: consultation, then both legs end`, { timeout: 60_000 }, () => {
    const start = talkingIncoming();
    const originalId = String(start.calls[0].id);
    const r = run(start, [
      { do: 'transfer', mode: 'attended', target: '4001' },
      { do: 'remote_answer' },
      { do: 'transfer', mode: 'attended' },
      { do: 'transfer_result', ok },
    ]);
    assert.deepEqual(slugs(r.incidents), [
      'hold', 'outgoing_call', 'call_established', 'transfer_call', 'attended_transfer_call',
      ok ? 'transfer_finished' : 'transfer_failed', 'call_terminated', 'call_terminated', 'busy_to_idle',
    ]);
    const terminated = only(r.incidents, 'call_terminated');
    assert.equal(terminated[0].vars.call_id, originalId);
    assert.notEqual(terminated[1].vars.call_id, originalId, 'the consultation leg is a call of its own');
    assert.equal(terminated[1].vars.remote, 'sip:4001@pbx.example.com');
    // While both legs exist, the first call is the one reported.
    assert.equal(only(r.incidents, 'outgoing_call')[0].vars.call_id, originalId);
    assert.equal(r.state.calls.length, 0);
  });
}

test('call waiting with two calls: the second rings, is answered, the first goes on hold', { timeout: 60_000 }, () => {
  const first = talkingIncoming('sip:3001@10.0.0.9', 'Bob');
  const firstId = String(first.calls[0].id);
  const r = run(first, [
    { do: 'incoming', from: 'sip:3002@10.0.0.9', name: 'Eve' },
    { do: 'answer' },
    { do: 'hangup' },
    { do: 'unhold' },
    { do: 'hangup' },
  ]);
  assert.deepEqual(slugs(r.incidents), [
    'incoming_call', 'hold', 'answer_new_incoming_call', 'call_established', 'call_terminated', 'unhold',
    'call_terminated', 'busy_to_idle',
  ]);
  // Firmware reports only the first call while several exist: the waiting call's incoming_call names Bob.
  assert.equal(r.incidents[0].vars.call_id, firstId);
  assert.equal(r.incidents[0].vars.display_remote, 'Bob');
  assert.equal(r.state.calls.length, 0);
});

test('call waiting: the second call missed while talking does not change busy state', { timeout: 60_000 }, () => {
  const r = run(talkingIncoming(), [{ do: 'incoming', from: '3002' }, { do: 'remote_cancel' }]);
  assert.deepEqual(slugs(r.incidents), ['incoming_call', 'missed_call']);
  assert.equal(r.state.busy, true);
  assert.equal(r.state.calls.length, 1);
});

test('IP change: ip_change with the new address; same or invalid address refused', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [{ do: 'ip', address: '10.1.2.3' }]);
  assert.deepEqual(slugs(r.incidents), ['ip_change']);
  assert.equal(r.incidents[0].vars.ip, '10.1.2.3');
  assert.equal(r.state.device.ip, '10.1.2.3');
  assert.deepEqual(step(r.state, { do: 'ip', address: '10.1.2.3' }), { error: 'the phone already has address 10.1.2.3' });
  assert.match((step(r.state, { do: 'ip', address: '10.1.2' }) as { error: string }).error, /not an IP address/);
});

test('$call_id: a new integer per call', { timeout: 60_000 }, () => {
  const r = run(readyPhone(), [
    { do: 'dial', number: '2002' }, { do: 'hangup' }, { do: 'incoming', from: '3001' }, { do: 'reject' },
  ]);
  const ids = r.incidents.filter((i) => i.slug === 'outgoing_call' || i.slug === 'incoming_call').map((i) => i.vars.call_id);
  assert.equal(new Set(ids).size, 2);
});

test('impossible actions are refused with the reason, and change nothing', { timeout: 60_000 }, () => {
  const ready = readyPhone();
  const cases: [HandsetState, Action, RegExp][] = [
    [freshPhone(), { do: 'register' }, /not booted/],
    [ready, { do: 'answer' }, /no ringing call to answer/],
    [ready, { do: 'onhook' }, /already on hook/],
    [ready, { do: 'register' }, /already registered/],
    [ready, { do: 'hold' }, /no active call/],
    [ready, { do: 'transfer_result', ok: true }, /no transfer/],
    [ready, { do: 'transfer', mode: 'blind', target: '4001' }, /no established call/],
    [ready, { do: 'remote_answer' }, /no outgoing call/],
    [ready, { do: 'forward', kind: 'always', on: true }, /target is needed/],
    [ready, { do: 'forward', kind: 'busy', on: false }, /already off/],
    [ready, { do: 'incoming', from: '3001', name: 'Evil\r\nHost: x' }, /line break/],
    [ready, { do: 'dial', number: '20 02' }, /whitespace/],
    [run(freshPhone(), [{ do: 'boot' }]).state, { do: 'dial', number: '2002' }, /no registered account/],
    [ready, { do: 'fly' } as unknown as Action, /unknown action/],
  ];
  for (const [state, action, reason] of cases) {
    const r = step(state, action);
    assert.ok('error' in r, `${action.do} should be refused`);
    assert.match(r.error, reason);
  }
});

test('steps never change the state they were given', { timeout: 60_000 }, () => {
  const ready = readyPhone();
  const copy = structuredClone(ready);
  run(ready, [{ do: 'incoming', from: '3001' }, { do: 'answer' }, { do: 'hold' }]);
  assert.deepEqual(ready, copy);
});
