/**
 * Random event sequences over all 34 incidents and a few calls: whatever phones send, in whatever order,
 * with whatever lost or repeated, the state stays coherent and the phone can always get back to idle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCIDENTS } from '../../src/core/catalog.ts';
import { expireCalls, reduce } from '../../src/domain/reduce.ts';
import type { CallState, PhoneEvent, PhoneState, Reduction } from '../../src/domain/types.ts';
import { MAC, T0 } from './events.ts';

const HOUR = 3_600_000;
const SLUGS = INCIDENTS.map((i) => i.slug);

const varsArb = fc.record(
  {
    call_id: fc.constantFrom('', '1', '2', '3', '#4', ' 1 ', 'ü weird/id'),
    remote: fc.constantFrom('', 'sip:200@pbx', 'sip:300@pbx'),
    display_remote: fc.constantFrom('', 'Alice', '<b>Bob</b>'),
    active_url: fc.constantFrom('', 'sip:100@pbx', 'sip:101@pbx'),
    call_direction: fc.constantFrom('', 'incoming', 'outgoing'),
    ip: fc.constantFrom('', '10.0.0.21'),
    junk: fc.string(),
  },
  { requiredKeys: [] },
);

/** A step: an incident (or, rarely, an unknown one) and the time since the previous event. */
const stepArb = fc.record({
  incident: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...SLUGS) }, { weight: 1, arbitrary: fc.string() }),
  vars: varsArb,
  gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_000 }), fc.integer({ min: 4_000, max: 20 * 60_000 })),
});

function eventsFrom(steps: readonly { incident: string; vars: Record<string, string>; gapMs: number }[]): PhoneEvent[] {
  let at = T0;
  return steps.map((s, i) => {
    at += s.gapMs;
    return { id: i + 1, receivedAt: at, mac: MAC, incident: s.incident, vars: { mac: MAC, ...s.vars }, sourceIp: '10.0.0.21' };
  });
}

const sequenceArb = fc.array(stepArb, { maxLength: 60 }).map(eventsFrom);

const keyOf = (c: CallState) => `${c.callId}|${c.startedAt}`;

function assertCoherent(state: PhoneState, changed: readonly CallState[]): void {
  const ids = state.calls.map((c) => c.callId);
  assert.equal(new Set(ids).size, ids.length, 'at most one open call per call id');
  for (const call of state.calls) {
    assert.notEqual(call.phase, 'ended');
    assert.equal(call.outcome, 'ongoing');
    assert.equal(call.endedAt, null);
  }
  const open = new Set(state.calls.map(keyOf));
  for (const call of changed) {
    const ended = call.phase === 'ended';
    assert.equal(open.has(keyOf(call)), !ended, `an ended call is not open, a changed open one is (${call.callId})`);
    if (ended) {
      assert.notEqual(call.outcome, 'ongoing');
      assert.ok(call.endedAt !== null && call.endedAt >= call.startedAt);
    }
    if (call.answeredAt !== null) assert.ok(call.answeredAt >= call.startedAt);
  }

  const phases = new Set(state.calls.map((c) => c.phase));
  if (phases.has('dialing') || phases.has('talking') || phases.has('held')) assert.equal(state.busy, true);
  const expected =
    phases.has('talking') ? 'talking'
    : phases.has('dialing') ? 'dialing'
    : phases.has('held') ? 'held'
    : state.busy ? (phases.has('ringing') ? 'talking' : 'dialing')
    : phases.has('ringing') ? 'ringing'
    : state.registered === false ? 'unregistered'
    : state.dnd ? 'dnd'
    : 'idle';
  assert.equal(state.presence, expected);

  const registered = state.accounts.some((a) => a.registered === true)
    ? true
    : state.accounts.some((a) => a.registered === false) ? false : null;
  assert.equal(state.registered, registered);
}

/** Every call of the sequence, as last reported. */
function run(events: readonly PhoneEvent[], each?: (before: PhoneState | undefined, r: Reduction, e: PhoneEvent) => void) {
  let state: PhoneState | undefined;
  const calls = new Map<string, CallState>();
  for (const event of events) {
    const r = reduce(state, event);
    each?.(state, r, event);
    for (const c of r.changedCalls) calls.set(keyOf(c), c);
    state = r.state;
  }
  return { state, calls };
}

test('reduce never throws and the state stays coherent after every event', () => {
  fc.assert(
    fc.property(sequenceArb, (events) => {
      run(events, (_before, r) => assertCoherent(r.state, r.changedCalls));
    }),
    { numRuns: 300 },
  );
});

test('applying the same event twice equals applying it once, whether stored once or arriving twice', () => {
  fc.assert(
    fc.property(sequenceArb, (events) => {
      run(events, (_before, r, event) => {
        const again = reduce(r.state, event);
        assert.equal(again.state, r.state);
        assert.deepEqual(again.changedCalls, []);
        const copy = reduce(r.state, { ...event, id: event.id + 0.5 });
        assert.deepEqual({ ...copy.state, lastEventId: r.state.lastEventId }, r.state);
        assert.deepEqual(copy.changedCalls, []);
      });
    }),
    { numRuns: 200 },
  );
});

test('after anything, busy_to_idle and registered bring the phone back to idle and registered', () => {
  fc.assert(
    fc.property(sequenceArb, fc.constantFrom<Record<string, string>>({}, { active_url: 'sip:100@pbx' }), (events, account) => {
      const { state } = run(events);
      const last = events.at(-1);
      const next = (last?.id ?? 0) + 1;
      const at = (last?.receivedAt ?? T0) + 1;
      const tail: PhoneEvent[] = [
        { id: next, receivedAt: at, mac: MAC, incident: 'busy_to_idle', vars: {}, sourceIp: '' },
        { id: next + 1, receivedAt: at + 1, mac: MAC, incident: 'registered', vars: account, sourceIp: '' },
      ];
      const after = tail.reduce((s, e) => reduce(s, e).state, state);
      assert.ok(after);
      assert.deepEqual(after.calls, []);
      assert.equal(after.busy, false);
      assert.equal(after.registered, true);
      assert.equal(after.presence, after.dnd ? 'dnd' : 'idle');
    }),
    { numRuns: 300 },
  );
});

test('expireCalls far in the future leaves no open call and ends each one it closes', () => {
  fc.assert(
    fc.property(sequenceArb, (events) => {
      const { state, calls } = run(events);
      if (!state) return;
      const expired = expireCalls(state, state.lastSeen + 48 * HOUR, 4 * HOUR);
      assertCoherent(expired.state, expired.changedCalls);
      assert.deepEqual(expired.state.calls, []);
      assert.equal(expired.state.busy, false);
      assert.ok(['idle', 'dnd', 'unregistered'].includes(expired.state.presence));
      for (const call of expired.changedCalls) calls.set(keyOf(call), call);
      assert.deepEqual([...calls.values()].filter((c) => c.phase !== 'ended'), []);
    }),
    { numRuns: 300 },
  );
});

test('a state saved as JSON and loaded again reduces the rest of the events the same way', () => {
  fc.assert(
    fc.property(sequenceArb, fc.nat(), (events, cut) => {
      const at = events.length === 0 ? 0 : cut % events.length;
      const whole = run(events).state;
      let state = run(events.slice(0, at)).state;
      if (state) state = JSON.parse(JSON.stringify(state)) as PhoneState;
      for (const event of events.slice(at)) state = reduce(state, event).state;
      assert.deepEqual(state, whole);
    }),
    { numRuns: 200 },
  );
});
