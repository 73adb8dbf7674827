import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieValues } from '../../src/core/cookies.ts';

describe('Cookie header', { timeout: 5_000 }, () => {
  test('reads every value of a repeated cookie, in order', () => {
    assert.deepEqual(cookieValues('a=1; b=2; a="3"', 'a'), ['1', '3']);
  });

  test('no header or no such cookie gives no values', () => {
    assert.deepEqual(cookieValues(undefined, 'a'), []);
    assert.deepEqual(cookieValues('', 'a'), []);
    assert.deepEqual(cookieValues('ab=1; xa=2', 'a'), [], 'names match whole, not by prefix or suffix');
  });

  test('a value may hold "=" (base64) and spaces around parts are ignored', () => {
    assert.deepEqual(cookieValues('  sid = YWJj== ;theme=dark', 'sid'), ['YWJj==']);
  });

  test('parts without "=" and empty values do not break the others', () => {
    assert.deepEqual(cookieValues('junk; sid=; sid=x;;', 'sid'), ['', 'x']);
  });
});
