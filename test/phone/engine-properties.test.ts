import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCIDENTS, variablesFilledBy } from '../../src/core/catalog.ts';
import { advance, parseStep, step } from '../../src/phone/engine/index.ts';
import type { Action, FiredIncident, HandsetState } from '../../src/phone/engine/index.ts';
import { unresolvedVariables } from '../../src/phone/engine/vars.ts';
import { freshPhone, readyPhone, run } from './engine-helpers.ts';

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>(
    { do: 'boot' }, { do: 'register' }, { do: 'register_fail' }, { do: 'unregister' }, { do: 'offhook' },
    { do: 'onhook' }, { do: 'remote_answer' }, { do: 'remote_busy' }, { do: 'remote_cancel' }, { do: 'answer' },
    { do: 'reject' }, { do: 'hangup' }, { do: 'remote_hangup' }, { do: 'hold' }, { do: 'unhold' }, { do: 'mute' },
    { do: 'unmute' }, { do: 'transfer', mode: 'blind', target: '4001' }, { do: 'transfer', mode: 'attended', target: '4002' },
    { do: 'transfer', mode: 'attended' },
  ),
  fc.record({ do: fc.constant('dial' as const), number: fc.constantFrom('2002', 'sip:2003@x.example') }),
  fc.record({ do: fc.constant('incoming' as const), from: fc.constantFrom('3001', 'sip:3002@10.0.0.9'), name: fc.string() }),
  fc.record({ do: fc.constant('dnd' as const), on: fc.boolean() }),
  fc.record({
    do: fc.constant('forward' as const), kind: fc.constantFrom('always' as const, 'busy' as const, 'no_answer' as const),
    on: fc.boolean(), target: fc.constant('5000'),
  }),
  fc.record({ do: fc.constant('transfer_result' as const), ok: fc.boolean() }),
  fc.record({ do: fc.constant('ip' as const), address: fc.constantFrom('10.0.0.1', '10.0.0.2') }),
);

const shouldBeBusy = (s: HandsetState) => s.predial || s.calls.some((c) => c.phase !== 'ringing');

test('any sequence of actions: variables as the catalog says, busy/idle consistent, call ids unique', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(action, fc.nat(30_000)), { maxLength: 60 }), (steps) => {
      let s = freshPhone();
      let now = 0;
      const fired: FiredIncident[] = [];
      for (const [a, dt] of steps) {
        now += dt;
        const t = advance(s, now);
        fired.push(...t.incidents);
        const r = step(t.state, a, now);
        if ('error' in r) {
          assert.equal(typeof r.error, 'string');
          s = t.state;
        } else {
          fired.push(...r.incidents);
          s = r.state;
        }
        assert.equal(s.busy, shouldBeBusy(s));
        assert.equal(new Set(s.calls.map((c) => c.id)).size, s.calls.length);
      }
      for (const i of fired) {
        assert.deepEqual(Object.keys(i.vars).sort(), variablesFilledBy(i.slug).map((v) => v.name).sort(), i.slug);
      }
      const transitions = fired.filter((i) => i.slug === 'idle_to_busy' || i.slug === 'busy_to_idle').map((i) => i.slug);
      transitions.forEach((slug, n) => assert.equal(slug, n % 2 === 0 ? 'idle_to_busy' : 'busy_to_idle'));
    }),
    { numRuns: 300 },
  );
});

test('every one of the 34 catalog incidents is fired by some flow', { timeout: 60_000 }, () => {
  const seen = new Set<string>();
  const add = (r: { incidents: FiredIncident[] }) => r.incidents.forEach((i) => seen.add(i.slug));
  add(run(freshPhone(), [{ do: 'boot' }, { do: 'register_fail' }, { do: 'register' }, { do: 'unregister' }]));
  const ready = readyPhone();
  add(run(ready, [
    { do: 'offhook' }, { do: 'dial', number: '2' }, { do: 'remote_answer' }, { do: 'hold' }, { do: 'unhold' },
    { do: 'mute' }, { do: 'unmute' }, { do: 'transfer', mode: 'blind', target: '4' }, { do: 'transfer_result', ok: true },
    { do: 'onhook' }, { do: 'ip', address: '10.9.9.9' },
  ]));
  add(run(ready, [{ do: 'incoming', from: '3' }, { do: 'remote_cancel' }, { do: 'incoming', from: '3' }, { do: 'reject' }]));
  add(run(ready, [
    { do: 'incoming', from: '3' }, { do: 'answer' }, { do: 'transfer', mode: 'attended', target: '4' }, { do: 'remote_answer' },
    { do: 'transfer', mode: 'attended' }, { do: 'transfer_result', ok: false },
  ]));
  for (const kind of ['always', 'busy', 'no_answer'] as const) {
    add(run(ready, [{ do: 'forward', kind, on: true, target: '5' }, { do: 'forward', kind, on: false }]));
  }
  add(run(ready, [{ do: 'dnd', on: true }, { do: 'dnd', on: false }, { do: 'forward', kind: 'always', on: true, target: '5' }, { do: 'incoming', from: '3' }]));
  assert.deepEqual(INCIDENTS.map((i) => i.slug).filter((s) => !seen.has(s)), []);
});

test('every catalog variable has a source in the engine', { timeout: 60_000 }, () => {
  assert.deepEqual(unresolvedVariables().map((v) => v.name), []);
});

test('scenario steps are checked: unknown actions, missing, mistyped and unexpected fields', { timeout: 60_000 }, () => {
  assert.deepEqual(parseStep({ do: 'dial', number: '2002' }), { do: 'dial', number: '2002' });
  assert.deepEqual(parseStep({ do: 'wait', ms: 10 }), { do: 'wait', ms: 10 });
  assert.match((parseStep({ do: 'fly' }) as { error: string }).error, /unknown action "fly"/);
  assert.match((parseStep({ do: 'dial' }) as { error: string }).error, /"number" is required/);
  assert.match((parseStep({ do: 'dnd', on: 'yes' }) as { error: string }).error, /"on" must be a boolean/);
  assert.match((parseStep({ do: 'dial', numbr: '1' }) as { error: string }).error, /unexpected field "numbr"/);
  assert.match((parseStep({ do: 'forward', kind: 'sometimes', on: true }) as { error: string }).error, /kind/);
  assert.match((parseStep({ do: 'wait', ms: -1 }) as { error: string }).error, /ms/);
  assert.match((parseStep([]) as { error: string }).error, /object/);
});
