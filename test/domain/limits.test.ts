/**
 * What a broken or hostile phone can make the reducer keep: new call ids that never end, endless account
 * names, huge values. Whatever arrives, the state stays within the caps (so memory, checkpoints, replay and
 * API answers do), and a call closed to make room says so.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCIDENTS } from '../../src/core/catalog.ts';
import { reduce, replay } from '../../src/domain/reduce.ts';
import type { CallState, PhoneEvent, PhoneState } from '../../src/domain/types.ts';
import { callVars, eventsOf, MAC, T0, type Step } from './events.ts';

const SLUGS = INCIDENTS.map((i) => i.slug);
// The caps as documented (docs/receiver.md), written out here rather than imported from the code under test.
const OPEN_CALLS = 8;
const ACCOUNTS = 16;
const TEXT = 256;

function stateAfter(events: readonly PhoneEvent[]): { state: PhoneState; calls: CallState[] } {
  const { state, calls } = replay(events);
  assert.ok(state);
  return { state, calls };
}

describe('caps on what one phone can make the receiver keep', { timeout: 60_000 }, () => {
  test('652 incoming calls with new ids that never end: 8 stay open, the rest close as missed by call_limit', () => {
    const steps: Step[] = Array.from({ length: 652 }, (_, i) => ['incoming_call', callVars(`flood-${i}`, `sip:${1000 + i}@pbx`, `Caller ${i}`)]);
    const { state, calls } = stateAfter(eventsOf(steps));
    assert.equal(state.calls.length, OPEN_CALLS);
    // The newest stay; the oldest unanswered went first.
    assert.deepEqual(state.calls.map((c) => c.callId), Array.from({ length: OPEN_CALLS }, (_, i) => `flood-${644 + i}`));
    const closed = calls.filter((c) => c.phase === 'ended');
    assert.equal(closed.length, 652 - OPEN_CALLS);
    for (const c of closed) {
      assert.equal(c.outcome, 'missed');
      assert.equal(c.endedBy, 'call_limit');
      // It ends when it was last heard of (its incoming_call), not when the flood pushed it out.
      assert.equal(c.endedAt, c.startedAt);
    }
    assert.ok((state.recentlyEnded ?? []).length <= 16);
    assert.ok(JSON.stringify(state).length < 20_000, `state JSON is ${JSON.stringify(state).length} bytes`);
  });

  test('a conversation in progress outlives a flood of ringing calls', () => {
    const steps: Step[] = [
      ['incoming_call', callVars('real', 'sip:200@pbx', 'Alice')],
      ['call_established', callVars('real', 'sip:200@pbx', 'Alice')],
      ...Array.from({ length: 50 }, (_, i): Step => ['incoming_call', callVars(`junk-${i}`, `sip:${i}@x`, 'X')]),
    ];
    const { state } = stateAfter(eventsOf(steps));
    assert.equal(state.calls.length, OPEN_CALLS);
    const real = state.calls.find((c) => c.callId === 'real');
    assert.ok(real, 'the answered call is still open');
    assert.equal(real.phase, 'talking');
    assert.equal(state.presence, 'talking');
  });

  test('nine answered calls: the oldest closes as answered, with its talk time up to its last event', () => {
    const steps: Step[] = Array.from({ length: OPEN_CALLS + 1 }, (_, i): Step => ['call_established', callVars(`c${i}`, `sip:${i}@pbx`)]);
    const { state, calls } = stateAfter(eventsOf(steps));
    assert.equal(state.calls.length, OPEN_CALLS);
    const first = calls.find((c) => c.callId === 'c0' && c.phase === 'ended');
    assert.ok(first);
    assert.equal(first.outcome, 'answered');
    assert.equal(first.endedBy, 'call_limit');
    assert.equal(first.endedAt, T0);
  });

  test('100 account names: 16 kept, the newest', () => {
    const steps: Step[] = Array.from({ length: 100 }, (_, i): Step => ['registered', { active_url: `sip:${i}@pbx`, active_user: '', active_host: '' }]);
    const { state } = stateAfter(eventsOf(steps));
    assert.equal(state.accounts.length, ACCOUNTS);
    assert.ok(state.accounts.some((a) => a.id === '99@pbx'));
    assert.ok(!state.accounts.some((a) => a.id === '0@pbx'));
    assert.equal(state.registered, true);
  });

  test('8 KiB display names, numbers and ids are kept to 256 characters, without splitting a character', () => {
    const long = `${'a'.repeat(TEXT - 1)}😀${'b'.repeat(8000)}`;
    const { state } = stateAfter(eventsOf([['incoming_call', { call_id: long, remote: long, display_remote: long, local: long, model: long, firmware: long, ip: long }]]));
    const call = state.calls[0];
    for (const value of [call.callId, call.remote, call.displayRemote, call.local, state.model, state.firmware, state.ip]) {
      assert.ok(value.length <= TEXT, `${value.length} characters kept`);
      assert.ok(value.startsWith('a'.repeat(TEXT - 1)));
      assert.ok(!/[\uD800-\uDBFF]$/.test(value), 'no lone high surrogate at the end');
    }
    assert.ok((state.lastFingerprint?.fingerprint.length ?? 0) <= 512);
    // The same huge request again is still recognised as a copy.
    const again = reduce(state, { ...eventsOf([['incoming_call', { call_id: long, remote: long, display_remote: long, local: long, model: long, firmware: long, ip: long }]], T0 + 10, 2)[0] });
    assert.deepEqual(again.changedCalls, []);
  });

  test('whatever a phone sends, open calls, accounts, remembered calls and texts stay within the caps', () => {
    const vars = fc.record(
      {
        call_id: fc.oneof(fc.constantFrom('', '1', '2'), fc.string({ maxLength: 400 }), fc.nat().map(String)),
        remote: fc.oneof(fc.constantFrom('', 'sip:200@pbx'), fc.string({ maxLength: 400 })),
        display_remote: fc.string({ maxLength: 400 }),
        active_url: fc.oneof(fc.constant(''), fc.nat().map((n) => `sip:${n}@pbx`)),
        call_direction: fc.constantFrom('', 'incoming', 'outgoing'),
      },
      { requiredKeys: [] },
    );
    const step = fc.record({
      incident: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('incoming_call', 'outgoing_call', 'call_established', 'registered') }, { weight: 4, arbitrary: fc.constantFrom(...SLUGS) }),
      vars,
      gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 5_000, max: 3_600_000 })),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        let at = T0;
        let state: PhoneState | undefined;
        steps.forEach((s, i) => {
          at += s.gapMs;
          state = reduce(state, { id: i + 1, receivedAt: at, mac: MAC, incident: s.incident, vars: s.vars, sourceIp: '10.0.0.9' }).state;
          assert.ok(state.calls.length <= OPEN_CALLS, `${state.calls.length} open calls`);
          assert.ok(state.accounts.length <= ACCOUNTS, `${state.accounts.length} accounts`);
          assert.ok((state.recentlyEnded ?? []).length <= 16);
          for (const c of [...state.calls, ...(state.recentlyEnded ?? [])]) {
            for (const v of [c.callId, c.remote, c.displayRemote, c.local]) assert.ok(v.length <= TEXT);
            if (c.endedAt !== null) assert.ok(c.endedAt >= c.startedAt && c.endedAt >= (c.answeredAt ?? c.startedAt));
          }
          for (const a of state.accounts) assert.ok(a.id.length <= TEXT);
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('a call whose end was never heard ends at the last moment it was known alive', { timeout: 10_000 }, () => {
  test('a reboot hours later closes a talking call at the phone\'s last event before it, not at the reboot', () => {
    const talk = eventsOf([
      ['incoming_call', callVars('7')],
      ['call_established', callVars('7')],
      ['mute', callVars('7')],
    ]);
    const reboot = eventsOf([['setup_completed', {}]], T0 + 12 * 3_600_000, 4)[0];
    const { state, calls } = stateAfter([...talk, reboot]);
    assert.deepEqual(state.calls, []);
    const call = calls.find((c) => c.callId === '7');
    assert.ok(call);
    assert.equal(call.endedAt, T0 + 2_000, 'ended at the mute, its last sign of life');
    assert.equal(call.endedBy, 'setup_completed');
    assert.equal(call.outcome, 'answered');
    assert.equal((call.endedAt - call.answeredAt!) / 1000, 1, 'one second of talk, not twelve hours');
  });

  test('the phone\'s later events about something else move the end: it was alive then', () => {
    const events = eventsOf([
      ['call_established', callVars('8')],
      ['dnd_on', {}],
      ['dnd_off', {}],
    ]);
    const reboot = eventsOf([['setup_completed', {}]], T0 + 3_600_000, 4)[0];
    const { calls } = stateAfter([...events, reboot]);
    assert.equal(calls.find((c) => c.callId === '8')?.endedAt, T0 + 2_000);
  });
});
