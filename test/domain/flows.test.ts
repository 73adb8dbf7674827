import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reduce, replay } from '../../src/domain/reduce.ts';
import type { PhoneEvent, PhoneState } from '../../src/domain/types.ts';
import { FLOWS, type ExpectedCall, stepsOf } from './flows.ts';
import { eventsOf } from './events.ts';

/** The time of the first `incident` event about `callId`. */
function timeOf(events: readonly PhoneEvent[], incident: string, callId: string): number {
  const event = events.find((e) => e.incident === incident && e.vars.call_id === callId);
  assert.ok(event, `${incident} for call ${callId} is in the flow`);
  return event.receivedAt;
}

function assertCall(events: readonly PhoneEvent[], calls: ReturnType<typeof replay>['calls'], want: ExpectedCall) {
  const call = calls.find((c) => c.callId === want.callId);
  assert.ok(call, `call ${want.callId} was recorded`);
  assert.equal(call.direction, want.direction, `direction of call ${want.callId}`);
  assert.equal(call.outcome, want.outcome, `outcome of call ${want.callId}`);
  assert.equal(call.phase, 'ended');
  assert.equal(call.endedBy, want.endedBy);
  assert.equal(call.answeredAt, want.answeredBy === null ? null : timeOf(events, want.answeredBy, want.callId));
  assert.equal(call.endedAt, timeOf(events, want.endedBy, want.endReportedAs ?? want.callId));
}

for (const flow of FLOWS) {
  test(`flow: ${flow.name}`, { timeout: 60_000 }, () => {
    const events = eventsOf(stepsOf(flow));
    const own = events.slice(events.length - flow.steps.length);
    let state: PhoneState | undefined = replay(events.slice(0, events.length - own.length)).state;
    own.forEach((event, i) => {
      state = reduce(state, event).state;
      assert.equal(state.presence, flow.steps[i][2], `presence after ${event.incident} (step ${i + 1})`);
    });
    const { calls } = replay(events);
    assert.equal(calls.length, flow.calls.length, 'number of calls recorded');
    for (const want of flow.calls) assertCall(events, calls, want);
    assert.deepEqual(state?.calls, [], 'no call left open');
  });
}

test('boot: identity and registration come from the variables', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf(stepsOf(FLOWS[0])));
  assert.ok(state);
  assert.equal(state.ip, '10.0.0.22');
  assert.equal(state.model, 'T46U');
  assert.equal(state.firmware, '108.86.0.20');
  assert.equal(state.registered, true);
  assert.deepEqual(
    state.accounts.map((a) => [a.id, a.registered, a.failed]),
    [['100@pbx.example.com', true, false]],
  );
});

test('a failed registration marks the account failed and the phone unregistered', { timeout: 60_000 }, () => {
  const { state } = replay(eventsOf(stepsOf(FLOWS[1])));
  assert.equal(state?.registered, false);
  assert.equal(state?.accounts[0].failed, true);
});

test('the DND and forward switches end up as last switched', { timeout: 60_000 }, () => {
  const flow = FLOWS.find((f) => f.name.startsWith('DND'));
  assert.ok(flow);
  const { state } = replay(eventsOf(stepsOf(flow)));
  assert.equal(state?.dnd, false);
  assert.deepEqual(state?.forward, { always: false, busy: true, no_answer: true });
});

test('an outgoing call keeps its parties and marks the phone busy while it lasts', { timeout: 60_000 }, () => {
  const flow = FLOWS.find((f) => f.name === 'outgoing, answered, handset');
  assert.ok(flow);
  const events = eventsOf(stepsOf(flow));
  const during = replay(events.slice(0, 4)).state;
  assert.equal(during?.busy, true);
  assert.equal(during?.offHook, true);
  assert.deepEqual(
    during?.calls.map((c) => [c.callId, c.remote, c.displayRemote, c.local, c.phase]),
    [['1', 'sip:200@pbx.example.com', 'Alice', 'sip:100@pbx.example.com', 'talking']],
  );
  const after = replay(events).state;
  assert.equal(after?.busy, false);
  assert.equal(after?.offHook, false);
});
