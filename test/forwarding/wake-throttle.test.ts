/**
 * Commits in a burst read the outbox at most once per interval, and never leave rows unread: the last
 * commit of a burst is followed by one more read once the interval is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WakeThrottle } from '../../src/forwarding/wake-throttle.ts';
import { FakeClock } from './helpers/fake-clock.ts';

const EVERY_MS = 5;

test('a burst of commits wakes the workers at once, then once more when the interval is over', { timeout: 10_000 }, () => {
  const clock = new FakeClock();
  try {
    let wakes = 0;
    const throttle = new WakeThrottle(EVERY_MS, () => wakes++, clock.now);
    throttle.request();
    assert.equal(wakes, 1, 'the first commit after a quiet spell is read at once');
    for (let i = 0; i < 100; i++) throttle.request();
    assert.equal(wakes, 1);
    clock.advance(EVERY_MS - 1);
    assert.equal(wakes, 1);
    clock.advance(1);
    assert.equal(wakes, 2, 'the commits of the burst are read');
    clock.advance(10 * EVERY_MS);
    assert.equal(wakes, 2, 'nothing more without commits');
    throttle.request();
    assert.equal(wakes, 3);
  } finally {
    clock.stop();
  }
});

test('a wake waiting for its moment can be made at once, and none comes after closing', { timeout: 10_000 }, () => {
  const clock = new FakeClock();
  try {
    let wakes = 0;
    const throttle = new WakeThrottle(EVERY_MS, () => wakes++, clock.now);
    throttle.request();
    throttle.request();
    throttle.hurry();
    assert.equal(wakes, 2);
    throttle.request();
    throttle.close();
    clock.advance(10 * EVERY_MS);
    assert.equal(wakes, 2);
  } finally {
    clock.stop();
  }
});
