/** The pure decisions of forwarding across receivers: fair shares, hand-overs, and configuration checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configProblems, describeDestination, fairShare, planShards, selectorText } from '../../src/forwarding/lease-plan.ts';
import { makeSelector, SELECT_ALL } from '../../src/forwarding/destinations.ts';
import { DELIVERY_SHARDS } from '../../src/store/delivery-rows.ts';
import type { ForwardingPeer } from '../../src/store/types.ts';

const crm = describeDestination('crm', 'webhook', 'https://crm.example/', SELECT_ALL, '["https://crm.example/","whsec_a",15000]');

test('shares split the shards evenly among the receivers forwarding to a destination', { timeout: 5_000 }, () => {
  const peers = (n: number): ForwardingPeer[] => Array.from({ length: n }, (_, i) => ({ holder: `r${i}`, destinations: i === 0 ? [] : [crm] }));
  assert.equal(fairShare(peers(1), 'crm'), DELIVERY_SHARDS, 'only a receiver without it: a receiver alone takes them all');
  assert.equal(fairShare(peers(2), 'crm'), DELIVERY_SHARDS);
  assert.equal(fairShare(peers(3), 'crm'), DELIVERY_SHARDS / 2);
  assert.equal(fairShare(peers(4), 'crm'), Math.ceil(DELIVERY_SHARDS / 3));
  // However many receivers, the shares cover every shard.
  for (let n = 2; n < 40; n++) assert.ok(fairShare(peers(n), 'crm') * (n - 1) >= DELIVERY_SHARDS);
});

test('a receiver above its share hands the highest shards over; one below asks for the rest; a switched-off destination is handed over whole', { timeout: 5_000 }, () => {
  assert.deepEqual(planShards([3, 1, 9, 7], 2, true), { want: 0, handOver: [7, 9] });
  assert.deepEqual(planShards([1], 4, true), { want: 3, handOver: [] });
  assert.deepEqual(planShards([1, 2], 2, true), { want: 0, handOver: [] });
  assert.deepEqual(planShards([1, 2], 16, false), { want: 0, handOver: [1, 2] });
});

test('receivers set up differently are told apart, one line per difference, without secrets', { timeout: 5_000 }, () => {
  const self: ForwardingPeer = { holder: 'a', destinations: [crm] };
  assert.deepEqual(configProblems(self, [self, { holder: 'b', destinations: [crm] }]), []);
  const none = configProblems(self, [self, { holder: 'b', destinations: [] }]);
  assert.deepEqual(none, ['receiver b does not forward to crm: events it takes get no deliveries there']);
  const otherSecret = describeDestination('crm', 'webhook', 'https://crm.example/', SELECT_ALL, '["https://crm.example/","whsec_b",15000]');
  const [line] = configProblems(self, [{ holder: 'b', destinations: [otherSecret] }]);
  assert.match(line, /^destination crm is set up differently on receiver b/);
  assert.doesNotMatch(line, /whsec_/);
  const extra = describeDestination('lamp', 'webhook', 'http://10.0.0.40/', SELECT_ALL, '[]');
  assert.deepEqual(configProblems({ holder: 'b', destinations: [] }, [{ holder: 'a', destinations: [crm, extra] }]), [
    'receiver a forwards to crm, lamp, which this receiver does not: events this receiver takes get no deliveries there',
  ]);
});

test('equal selectors read the same whatever order they were written in; different ones differ', { timeout: 5_000 }, () => {
  const a = makeSelector(['call.ended', 'incoming_call'], ['001565aabbcc', '0015*']);
  const b = makeSelector(['phone.incoming_call', 'call.ended'], ['0015*', '00:15:65:AA:BB:CC']);
  assert.equal(selectorText(a), selectorText(b));
  assert.notEqual(selectorText(a), selectorText(makeSelector(['call.ended'], ['0015*'])));
  assert.equal(selectorText(SELECT_ALL), 'events *; phones *');
  const fa = describeDestination('crm', 'webhook', 'x', a, 's');
  assert.equal(fa.fingerprint, describeDestination('crm', 'webhook', 'x', b, 's').fingerprint);
  assert.notEqual(fa.fingerprint, describeDestination('crm', 'webhook', 'x', SELECT_ALL, 's').fingerprint);
});
