/**
 * The one list of a receiver's parts: closed newest first (or where a part says it must close), each once,
 * on a failed start as on a stop, background waits cut short, and a part that fails to close does not keep
 * the others open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lifetime, pause } from '../../src/core/lifetime.ts';

test('parts close newest first, a part placed after another closes just after it, and closing twice closes once', { timeout: 5_000 }, async () => {
  const life = new Lifetime();
  const closed: string[] = [];
  for (const name of ['store', 'control', 'commits']) life.add(name, () => void closed.push(name));
  life.add('http', () => void closed.push('http'), { closesAfter: 'control' });
  life.add('timers', () => void closed.push('timers'));
  assert.deepEqual(life.closeOrder, ['timers', 'commits', 'control', 'http', 'store']);
  await Promise.all([life.close(), life.close()]);
  assert.deepEqual(closed, ['timers', 'commits', 'control', 'http', 'store']);
  assert.throws(() => life.add('late', () => {}), /made while closing/);
});

test('a part that fails to close is reported and the rest still close', { timeout: 5_000 }, async () => {
  const life = new Lifetime();
  const closed: string[] = [];
  life.add('store', () => void closed.push('store'));
  life.add('broken', () => Promise.reject(new Error('socket already gone')));
  life.add('timers', () => void closed.push('timers'));
  const failures: string[] = [];
  await life.close((name, err) => failures.push(`${name}: ${(err as Error).message}`));
  assert.deepEqual(closed, ['timers', 'store']);
  assert.deepEqual(failures, ['broken: socket already gone']);
});

test('naming a part that is not there is a mistake, not a silent reordering', { timeout: 5_000 }, () => {
  assert.throws(() => new Lifetime().add('http', () => {}, { closesAfter: 'control' }), /no part named control/);
});

test('closing aborts the signal first, so a background wait ends at once instead of after its time', { timeout: 5_000 }, async () => {
  const life = new Lifetime();
  const started = performance.now();
  const waiting = pause(60_000, life.signal);
  let abortedWhenClosed: boolean | undefined;
  life.add('loop', () => void (abortedWhenClosed = life.signal.aborted));
  await life.close();
  await waiting;
  assert.equal(abortedWhenClosed, true);
  assert.ok(performance.now() - started < 1_000, 'the minute-long wait was cut short');
  await pause(60_000, life.signal); // already aborted: returns at once
});
