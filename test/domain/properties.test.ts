/**
 * Random event sequences over all 34 incidents and a few calls: whatever phones send, in whatever order,
 * with whatever lost or repeated, the state stays coherent and the phone can always get back to idle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCIDENTS } from '../../src/core/catalog.ts';
import { expireCalls, reduce } from '../../src/domain/reduce.ts';
import type { CallPhase, CallState, PhoneEvent, PhoneState, Presence, Reduction } from '../../src/domain/types.ts';
import { callVars, eventsOf, MAC, T0, type Step } from './events.ts';

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

/**
 * Presence as docs/receiver.md ("Live state") words it: of the situations that apply to a phone, the board
 * shows the first one in this list. Written as a table of the documented rules, not as the reducer's code.
 */
const PRESENCE_RULES: readonly (readonly [Presence, (s: PhoneState, up: (p: CallPhase) => boolean) => boolean])[] = [
  ['talking', (_s, up) => up('talking')],
  ['dialing', (_s, up) => up('dialing')],
  ['held', (_s, up) => up('held')],
  ['talking', (s, up) => s.busy && up('ringing')], // busy while a call rings: its answer was lost
  ['dialing', (s) => s.busy], // busy with no call: the user is entering a number
  ['ringing', (_s, up) => up('ringing')],
  ['unregistered', (s) => s.registered === false],
  ['dnd', (s) => s.dnd],
  ['idle', () => true],
];

function documentedPresence(state: PhoneState): Presence {
  const up = (phase: CallPhase) => state.calls.some((c) => c.phase === phase);
  return PRESENCE_RULES.find(([, applies]) => applies(state, up))![0];
}

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
  assert.equal(state.presence, documentedPresence(state));

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

test('reduce never throws and the state stays coherent after every event', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(sequenceArb, (events) => {
      run(events, (_before, r) => assertCoherent(r.state, r.changedCalls));
    }),
    { numRuns: 300 },
  );
});

test('applying the same event twice equals applying it once, whether stored once or arriving twice', { timeout: 60_000 }, () => {
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

test('after anything, busy_to_idle and registered bring the phone back to idle and registered', { timeout: 60_000 }, () => {
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

test('expireCalls far in the future leaves no open call and ends each one it closes', { timeout: 60_000 }, () => {
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

test('a state saved as JSON and loaded again reduces the rest of the events the same way', { timeout: 60_000 }, () => {
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

test('presence in the situations the docs name, one written-out answer each', { timeout: 60_000 }, () => {
  const a = callVars('1');
  const b = callVars('2', 'sip:300@pbx.example.com', 'Bob');
  const cases: [string, Step[], Presence][] = [
    ['a registered phone with nothing going on', [['registered']], 'idle'],
    ['DND on', [['registered'], ['dnd_on']], 'dnd'],
    ['DND on and the account lost', [['dnd_on'], ['unregistered']], 'unregistered'],
    ['a call rings under DND and without registration', [['dnd_on'], ['unregistered'], ['incoming_call', a]], 'ringing'],
    ['handset up, no number dialled yet', [['registered'], ['off_hook'], ['idle_to_busy']], 'dialing'],
    ['a ringing call and the phone went busy (the answer was lost)', [['incoming_call', a], ['idle_to_busy']], 'talking'],
    ['an outgoing call not answered yet', [['off_hook'], ['idle_to_busy'], ['outgoing_call', a]], 'dialing'],
    ['one call held', [['outgoing_call', a], ['call_established', a], ['hold', a]], 'held'],
    ['one call held, another talking', [['outgoing_call', a], ['call_established', a], ['hold', a],
      ['outgoing_call', b], ['call_established', b]], 'talking'],
    ['in a call although the account dropped', [['incoming_call', a], ['call_established', a], ['unregistered']], 'talking'],
    ['the call ended', [['incoming_call', a], ['call_established', a], ['call_terminated', a], ['busy_to_idle']], 'idle'],
  ];
  for (const [situation, steps, expected] of cases) {
    const state = eventsOf(steps).reduce<PhoneState | undefined>((s, e) => reduce(s, e).state, undefined);
    assert.equal(state?.presence, expected, situation);
  }
});
