import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { dedupeLogHook } from '../../src/server/log-dedupe.ts';

function capture() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  let clock = 1_000_000;
  const logger = pino({ level: 'info', hooks: { logMethod: dedupeLogHook(10_000, () => clock) } }, stream);
  return { lines, logger, advance: (ms: number) => (clock += ms) };
}

test('the same error 1,000 times in a burst is one line; the next one after the interval says how many were left out', { timeout: 10_000 }, async () => {
  const { lines, logger, advance } = capture();
  const err = Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' });
  for (let i = 0; i < 1000; i++) logger.error({ err }, 'commit failed');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].msg, 'commit failed');
  assert.equal(lines[0].err.message, err.message);
  advance(10_001);
  logger.error({ err }, 'commit failed');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 2);
  assert.equal(lines[1].repeated, 999);
  assert.equal(lines[1].err.message, err.message, 'the error is still there');
});

test('different messages or errors are not merged; info lines are never held back', { timeout: 10_000 }, async () => {
  const { lines, logger } = capture();
  logger.error({ err: new Error('a') }, 'commit failed');
  logger.error({ err: new Error('b') }, 'commit failed');
  logger.warn('PostgreSQL unreachable');
  logger.warn('PostgreSQL unreachable');
  for (let i = 0; i < 5; i++) logger.info({ i }, 'receiver listening');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(lines.map((l) => `${l.level} ${l.msg} ${l.err?.message ?? ''}`.trim()), [
    '50 commit failed a', '50 commit failed b', '40 PostgreSQL unreachable',
    '30 receiver listening', '30 receiver listening', '30 receiver listening', '30 receiver listening', '30 receiver listening',
  ]);
});

test('thousands of distinct messages do not grow it without bound, and each is still logged', { timeout: 10_000 }, async () => {
  const { lines, logger } = capture();
  for (let i = 0; i < 5000; i++) logger.warn(`refused ${i}`);
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 5000);
});
