import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INCIDENTS, getVariable } from '../../src/core/catalog.ts';
import { initialPhoneState, presenceAt, reduce, replay } from '../../src/domain/reduce.ts';
import { INCIDENT_HANDLERS } from '../../src/domain/incidents.ts';
import { VAR } from '../../src/domain/vars.ts';
import { ACCOUNT, MAC, T0, callVars, eventsOf } from './events.ts';

test('every incident of the catalog has a rule, and there is no rule for anything else', { timeout: 60_000 }, () => {
  assert.deepEqual([...INCIDENT_HANDLERS.keys()].sort(), INCIDENTS.map((i) => i.slug).sort());
});

test('the variables the reducer reads are catalog variables', { timeout: 60_000 }, () => {
  for (const name of Object.values(VAR)) assert.ok(getVariable(name), name);
});

test('a new phone starts idle, unregistered-unknown, with nothing on', { timeout: 60_000 }, () => {
  const state = initialPhoneState(MAC, T0);
  assert.equal(state.mac, MAC);
  assert.equal(state.presence, 'idle');
  assert.equal(state.registered, null);
  assert.deepEqual(state.calls, []);
  assert.equal(state.firstSeen, T0);
  assert.equal(state.lastSeen, T0);
});

test('an unknown incident only tells us the phone is alive', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf([['registered', ACCOUNT], ['headset_on', { ip: '10.0.0.99' }]]));
  assert.equal(state?.presence, 'idle');
  assert.equal(state?.lastSeen, T0 + 1_000);
  assert.equal(state?.ip, '10.0.0.99');
});

test('events without variables, or with junk in them, never throw', { timeout: 60_000 }, () => {
  const odd: Record<string, string>[] = [
    {},
    { call_id: '   ' },
    { call_id: '💥'.repeat(300) },
    { remote: '$remote' },
    JSON.parse('{"__proto__": "x", "constructor": "y", "call_id": "toString"}'),
  ];
  let state = undefined;
  let id = 1;
  for (const incident of INCIDENTS.map((i) => i.slug)) {
    for (const vars of odd) {
      state = reduce(state, { id: id++, receivedAt: T0 + id, mac: MAC, incident, vars, sourceIp: '' }).state;
    }
  }
  const junk = { id: Number.NaN, receivedAt: Number.NaN, mac: MAC, incident: 'call_established', vars: null, sourceIp: '' };
  assert.doesNotThrow(() => reduce(state, junk as never));
  assert.doesNotThrow(() => reduce(undefined, null as never));
});

test('an event id the state has seen already is not applied again (store replay after a restart)', { timeout: 60_000 }, () => {
  const events = eventsOf([['dnd_on'], ['dnd_off']]);
  const { state } = replay(events);
  assert.equal(replay([events[0]], state).state?.dnd, false);
});

test('accounts are told apart by user@host, from $active_url or $active_user and $active_host', { timeout: 60_000 }, () => {
  const { state } = replay(
    eventsOf([
      ['registered', { active_url: '<sip:100@PBX.example.com;transport=udp>' }],
      ['registered', { active_url: '', active_user: '200', active_host: 'pbx.example.com' }],
      ['register_failed', { active_url: 'sip:200@pbx.example.com' }],
    ]),
  );
  assert.deepEqual(
    state?.accounts.map((a) => [a.id, a.registered, a.failed]),
    [
      ['100@pbx.example.com', true, false],
      ['200@pbx.example.com', false, true],
    ],
  );
  assert.equal(state?.registered, true, 'one account is still registered');
  assert.equal(state?.presence, 'idle');
});

test('a registration incident naming no account applies to every known account', { timeout: 60_000 }, () => {
  const none = { active_url: '', active_user: '', active_host: '' };
  const { state } = replay(
    eventsOf([
      ['registered', { active_url: 'sip:100@pbx' }],
      ['registered', { active_url: 'sip:200@pbx' }],
      ['unregistered', none],
    ]),
  );
  assert.deepEqual(state?.accounts.map((a) => a.registered), [false, false]);
  assert.equal(state?.presence, 'unregistered');
  const anonymous = replay(eventsOf([['registered', none]])).state;
  assert.equal(anonymous?.registered, true);
});

test('a call shows over registration and DND; registration over DND', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const none = { active_url: '', active_user: '', active_host: '' };
  const events = eventsOf([['dnd_on'], ['unregistered', none], ['incoming_call', A]]);
  const presences = events.map((_, i) => replay(events.slice(0, i + 1)).state?.presence);
  assert.deepEqual(presences, ['dnd', 'unregistered', 'ringing']);
});

test('without $call_id a call is followed by its remote party', { timeout: 60_000 }, () => {
  const alice = callVars('', 'sip:200@pbx', 'Alice');
  const bob = callVars('', 'sip:300@pbx', 'Bob');
  const { state, calls } = replay(
    eventsOf([
      ['outgoing_call', alice], ['call_established', alice], ['hold', alice],
      ['incoming_call', bob], ['answer_new_incoming_call', bob], ['call_terminated', bob],
    ]),
  );
  assert.equal(state?.presence, 'held');
  assert.deepEqual(
    calls.map((c) => [c.remote, c.direction, c.phase, c.outcome]),
    [
      ['sip:200@pbx', 'outgoing', 'held', 'ongoing'],
      ['sip:300@pbx', 'incoming', 'ended', 'answered'],
    ],
  );
  assert.match(calls[0].callId, /^#\d+$/, 'a made-up id from the event id');
  assert.notEqual(calls[0].callId, calls[1].callId);
});

test('without $call_id or $remote the only call is the one meant', { timeout: 60_000 }, () => {
  const bare = { call_id: '', remote: '' };
  const { calls } = replay(eventsOf([['incoming_call', bare], ['answer_new_incoming_call', bare], ['call_terminated', bare]]));
  assert.deepEqual(calls.map((c) => [c.direction, c.outcome]), [['incoming', 'answered']]);
});

test('a call first reported without an id keeps being the same call once the id appears', { timeout: 60_000 }, () => {
  const { calls } = replay(
    eventsOf([['incoming_call', callVars('', 'sip:200@pbx')], ['answer_new_incoming_call', callVars('12', 'sip:200@pbx')]]),
  );
  assert.equal(calls.length, 1);
  assert.equal(calls[0].phase, 'talking');
});

test('mute belongs to the conversation and ends with it', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const events = eventsOf([['outgoing_call', A], ['call_established', A], ['mute', A], ['call_terminated', A]]);
  assert.equal(replay(events.slice(0, 3)).state?.muted, true);
  assert.equal(replay(events.slice(0, 3)).calls[0].muted, true);
  assert.equal(replay(events).state?.muted, false);
});

test('a failed transfer that the user resumes ends as an ordinary answered call', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const { calls } = replay(
    eventsOf([
      ['outgoing_call', A], ['call_established', A], ['transfer_call', A], ['blind_transfer_call', A],
      ['transfer_failed', A], ['unhold', A], ['call_terminated', A],
    ]),
  );
  assert.equal(calls[0].outcome, 'answered');
});

test('a reboot ends the calls it dropped', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const { state, calls } = replay(eventsOf([['outgoing_call', A], ['call_established', A], ['setup_completed']]));
  assert.equal(state?.presence, 'idle');
  assert.deepEqual(calls.map((c) => [c.outcome, c.endedBy]), [['answered', 'setup_completed']]);
});

test('the source address stands in for $ip until the phone sends one', { timeout: 60_000 }, () => {
  const [event] = eventsOf([['registered', { ip: '' }]]);
  assert.equal(reduce(undefined, { ...event, sourceIp: '192.0.2.7' }).state.ip, '192.0.2.7');
});

test('presenceAt: offline once nothing was heard for the given time', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf([['dnd_on']]));
  assert.ok(state);
  assert.equal(presenceAt(state, T0 + 59_000, 60_000), 'dnd');
  assert.equal(presenceAt(state, T0 + 60_000, 60_000), 'offline');
});

test('changedCalls lists each call an event created, changed or ended', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const [incoming, terminated] = eventsOf([['incoming_call', A], ['call_terminated', A]]);
  const first = reduce(undefined, incoming);
  assert.deepEqual(first.changedCalls.map((c) => [c.callId, c.phase]), [['1', 'ringing']]);
  const second = reduce(first.state, terminated);
  assert.deepEqual(second.changedCalls.map((c) => [c.callId, c.phase, c.outcome]), [['1', 'ended', 'missed']]);
  assert.deepEqual(second.state.calls, []);
  assert.deepEqual(reduce(second.state, { ...terminated, id: 3, receivedAt: T0 + 60_000 }).changedCalls, []);
});
