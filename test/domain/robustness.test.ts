/**
 * Phones never retry: requests get lost, arrive twice and out of order. The board and the call log must
 * still come out right, and a phone must never stay stuck in a call that is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expireCalls, reduce, replay } from '../../src/domain/reduce.ts';
import type { CallState, PhoneEvent, Presence } from '../../src/domain/types.ts';
import { FLOWS, stepsOf } from './flows.ts';
import { callVars, eventsOf, T0 } from './events.ts';

const HOUR = 3_600_000;
const CALL_PRESENCES: readonly Presence[] = ['ringing', 'dialing', 'talking', 'held'];

/** What the call log shows of a call. */
const record = (c: CallState) => ({ callId: c.callId, direction: c.direction, outcome: c.outcome, phase: c.phase });
const timed = (c: CallState) => ({ ...record(c), answeredAt: c.answeredAt, endedAt: c.endedAt, endedBy: c.endedBy });

/** Events renumbered in list order, as the store numbers what arrives. */
function renumbered(events: readonly PhoneEvent[]): PhoneEvent[] {
  return events.map((e, i) => ({ ...e, id: i + 1 }));
}

const callFlows = FLOWS.filter((f) => f.call);

test('the same stored event applied twice changes nothing the second time', { timeout: 60_000 }, () => {
  for (const flow of FLOWS) {
    let state = undefined;
    for (const event of eventsOf(stepsOf(flow))) {
      const once = reduce(state, event);
      const twice = reduce(once.state, event);
      assert.equal(twice.state, once.state, `${flow.name}: ${event.incident}`);
      assert.deepEqual(twice.changedCalls, []);
      state = once.state;
    }
  }
});

test('every request arriving twice in a row leaves the same presence and call log', { timeout: 60_000 }, () => {
  for (const flow of FLOWS) {
    const events = eventsOf(stepsOf(flow));
    const doubled = renumbered(events.flatMap((e) => [e, { ...e, receivedAt: e.receivedAt + 300 }]));
    const once = replay(events);
    const twice = replay(doubled);
    assert.equal(twice.state?.presence, once.state?.presence, flow.name);
    assert.deepEqual(twice.calls.map(timed), once.calls.map(timed), flow.name);
  }
});

test('a copy arriving after the next request still changes nothing', { timeout: 60_000 }, () => {
  for (const flow of callFlows) {
    const events = eventsOf(stepsOf(flow));
    // Each request's copy arrives right after the request that followed it.
    const interleaved = renumbered(
      events.flatMap((e, i) => (i === 0 ? [e] : [e, { ...events[i - 1], receivedAt: e.receivedAt + 300 }])),
    );
    const once = replay(events);
    const twice = replay(interleaved);
    assert.equal(twice.state?.presence, once.state?.presence, flow.name);
    assert.deepEqual(twice.calls.map(timed), once.calls.map(timed), flow.name);
  }
});

test('a repeated mute/unmute within seconds is not mistaken for a copy', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const events = eventsOf([['outgoing_call', A], ['call_established', A], ['mute', A], ['unmute', A], ['mute', A]], T0, 1, 500);
  const { state } = replay(events);
  assert.equal(state?.muted, true);
  assert.equal(state?.calls[0].muted, true);
});

test('losing any one request of a flow never leaves a call open for good', { timeout: 60_000 }, () => {
  for (const flow of FLOWS) {
    const events = eventsOf(stepsOf(flow));
    const last = events[events.length - 1].receivedAt;
    const endsWithIdle = flow.steps[flow.steps.length - 1][0] === 'busy_to_idle';
    events.forEach((lost, i) => {
      const label = `${flow.name} without ${lost.incident} (#${i + 1})`;
      const rest = events.filter((e) => e !== lost);
      if (rest.length === 0) return; // a one-request flow: nothing was heard at all
      const { state, calls } = replay(rest);
      assert.ok(state);
      // busy_to_idle closes whatever call_terminated was lost; one lost busy_to_idle is made up for by the
      // end of the last call.
      if (endsWithIdle) assert.deepEqual(state.calls, [], label);
      const expired = expireCalls(state, last + 24 * HOUR, HOUR);
      assert.deepEqual(expired.state.calls, [], label);
      assert.ok(!CALL_PRESENCES.includes(expired.state.presence), `${label}: ${expired.state.presence}`);
      const open = calls.filter((c) => c.phase !== 'ended' && !expired.changedCalls.some((x) => x.callId === c.callId));
      assert.deepEqual(open, [], label);
    });
  }
});

test('two adjacent requests swapped leave the same call log', { timeout: 60_000 }, () => {
  for (const flow of callFlows) {
    const events = eventsOf(stepsOf(flow));
    const want = replay(events);
    for (let i = 0; i + 1 < events.length; i++) {
      const swapped = [...events];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
      const label = `${flow.name}: ${events[i + 1].incident} before ${events[i].incident}`;
      const got = replay(renumbered(swapped.map((e, k) => ({ ...e, receivedAt: events[k].receivedAt }))));
      assert.deepEqual(got.calls.map(record), want.calls.map(record), label);
      assert.equal(got.state?.presence, want.state?.presence, label);
    }
  }
});

test('a lost call_terminated: busy_to_idle ends the call as answered', { timeout: 60_000 }, () => {
  const A = callVars('7');
  const events = eventsOf([['idle_to_busy'], ['outgoing_call', A], ['call_established', A], ['busy_to_idle']]);
  const { state, calls } = replay(events);
  assert.equal(state?.presence, 'idle');
  assert.deepEqual(calls.map(timed), [
    { callId: '7', direction: 'outgoing', outcome: 'answered', phase: 'ended', answeredAt: T0 + 2_000, endedAt: T0 + 3_000, endedBy: 'busy_to_idle' },
  ]);
});

test('a lost call_terminated and busy_to_idle: expireCalls ends the call when it was last heard of', { timeout: 60_000 }, () => {
  const A = callVars('7');
  const { state } = replay(eventsOf([['idle_to_busy'], ['outgoing_call', A], ['call_established', A], ['on_hook']]));
  assert.ok(state);
  assert.equal(state.presence, 'talking');
  const notYet = expireCalls(state, T0 + HOUR, 2 * HOUR);
  assert.equal(notYet.state, state, 'a call within the timeout stays');
  const { state: after, changedCalls } = expireCalls(state, T0 + 3 * HOUR, 2 * HOUR);
  assert.deepEqual(changedCalls.map(timed), [
    { callId: '7', direction: 'outgoing', outcome: 'answered', phase: 'ended', answeredAt: T0 + 2_000, endedAt: T0 + 2_000, endedBy: 'timeout' },
  ]);
  assert.equal(after.presence, 'idle');
  assert.equal(after.busy, false);
});

test('a ringing call whose missed_call was lost is closed as missed after minutes, not hours', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf([['incoming_call', callVars('3')]]));
  assert.ok(state);
  assert.equal(expireCalls(state, T0 + 60_000, 4 * HOUR).state.presence, 'ringing');
  const { state: after, changedCalls } = expireCalls(state, T0 + 10 * 60_000, 4 * HOUR);
  assert.deepEqual(changedCalls.map(record), [{ callId: '3', direction: 'incoming', outcome: 'missed', phase: 'ended' }]);
  assert.equal(after.presence, 'idle');
});

test('a phone left busy by a lost busy_to_idle is idle again after the timeout', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf([['off_hook'], ['idle_to_busy']]));
  assert.ok(state);
  assert.equal(state.presence, 'dialing');
  assert.equal(expireCalls(state, T0 + 2 * HOUR, HOUR).state.presence, 'idle');
});

test('a lost incoming_call: missed_call alone records the missed call', { timeout: 60_000 }, () => {
  const { state, calls } = replay(eventsOf([['missed_call', callVars('9', 'sip:555@pbx.example.com', 'Dave')]]));
  assert.equal(state?.presence, 'idle');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].direction, 'incoming');
  assert.equal(calls[0].outcome, 'missed');
  assert.equal(calls[0].remote, 'sip:555@pbx.example.com');
  assert.equal(calls[0].displayRemote, 'Dave');
});

test('call_established with no call before it opens the call', { timeout: 60_000 }, () => {
  const A = callVars('4');
  const { calls } = replay(eventsOf([['call_established', A], ['hold', A], ['unhold', A], ['call_terminated', A]]));
  assert.deepEqual(calls.map(timed), [
    { callId: '4', direction: 'unknown', outcome: 'answered', phase: 'ended', answeredAt: T0, endedAt: T0 + 3_000, endedBy: 'call_terminated' },
  ]);
});

test('busy_to_idle before call_terminated: the call is answered, and the late terminate is ignored', { timeout: 60_000 }, () => {
  const A = callVars('5');
  const { state, calls } = replay(
    eventsOf([['outgoing_call', A], ['call_established', A], ['busy_to_idle'], ['call_terminated', A]]),
  );
  assert.equal(state?.presence, 'idle');
  assert.deepEqual(calls.map(record), [{ callId: '5', direction: 'outgoing', outcome: 'answered', phase: 'ended' }]);
});

test('call_terminated before call_established: the late answer makes the call answered', { timeout: 60_000 }, () => {
  const A = callVars('5');
  const { state, calls } = replay(eventsOf([['outgoing_call', A], ['call_terminated', A], ['call_established', A]]));
  assert.equal(state?.presence, 'idle');
  assert.deepEqual(calls.map(timed), [
    { callId: '5', direction: 'outgoing', outcome: 'answered', phase: 'ended', answeredAt: T0 + 1_000, endedAt: T0 + 1_000, endedBy: 'call_terminated' },
  ]);
});

test('missed_call before incoming_call: one missed call and nothing left ringing', { timeout: 60_000 }, () => {
  const A = callVars('6');
  const { state, calls } = replay(eventsOf([['missed_call', A], ['incoming_call', A]]));
  assert.equal(state?.presence, 'idle');
  assert.deepEqual(calls.map(record), [{ callId: '6', direction: 'incoming', outcome: 'missed', phase: 'ended' }]);
});

test('the same call handle used again for a new call after a while is a new call', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const steps = [['incoming_call', A], ['missed_call', A], ['incoming_call', A], ['answer_new_incoming_call', A]] as const;
  const { state, calls } = replay(eventsOf(steps, T0, 1, 60_000));
  assert.equal(state?.presence, 'talking');
  assert.deepEqual(calls.map((c) => [c.callId, c.outcome]), [['1', 'missed'], ['1', 'ongoing']]);
});

test('call waiting: a call ringing while the phone went idle can still be answered', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const B = callVars('2', 'sip:300@pbx.example.com', 'Carol');
  const events = eventsOf([
    ['incoming_call', A], ['answer_new_incoming_call', A], ['idle_to_busy'], ['call_established', A],
    ['incoming_call', B], ['call_terminated', A], ['busy_to_idle'],
  ]);
  const { state } = replay(events);
  assert.equal(state?.presence, 'idle');
  const later = eventsOf([['answer_new_incoming_call', B], ['idle_to_busy'], ['call_terminated', B], ['busy_to_idle']],
    T0 + 30_000, events.length + 1);
  const { state: end, calls } = replay([...events, ...later]);
  assert.equal(replay([...events, later[0]]).state?.presence, 'talking');
  assert.equal(end?.presence, 'idle');
  assert.deepEqual(calls.map(record), [
    { callId: '1', direction: 'incoming', outcome: 'answered', phase: 'ended' },
    { callId: '2', direction: 'incoming', outcome: 'answered', phase: 'ended' },
  ]);
});

test('call waiting: a waiting call missed after the phone went idle is logged once, as missed', { timeout: 60_000 }, () => {
  const A = callVars('1');
  const B = callVars('2', 'sip:300@pbx.example.com', 'Carol');
  const events = eventsOf([
    ['outgoing_call', A], ['call_established', A], ['incoming_call', B], ['call_terminated', A], ['busy_to_idle'],
  ]);
  const missed = eventsOf([['missed_call', B]], T0 + 40_000, events.length + 1);
  const { calls } = replay([...events, ...missed]);
  assert.deepEqual(calls.map(timed)[1], {
    callId: '2', direction: 'incoming', outcome: 'missed', phase: 'ended', answeredAt: null, endedAt: T0 + 40_000,
    endedBy: 'missed_call',
  });
  assert.equal(calls.length, 2);
});
