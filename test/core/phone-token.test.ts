import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { PHONE_TOKEN_LENGTH, phoneToken } from '../../src/core/phone-token.ts';

const SECRET = 'a-long-random-token-secret';

test('a phone token is stable, URL-safe and of the documented form', { timeout: 60_000 }, () => {
  const token = phoneToken(SECRET, '001565aabbcc');
  assert.equal(token, phoneToken(SECRET, '001565aabbcc'));
  assert.equal(token.length, PHONE_TOKEN_LENGTH);
  assert.match(token, /^[A-Za-z0-9_-]{20}$/);
  const expected = createHmac('sha256', SECRET).update('001565aabbcc').digest('base64url').slice(0, 20);
  assert.equal(token, expected);
  // The openssl recipe in the docs, worked once by hand.
  assert.equal(phoneToken('s', '001565aabbcc'), 'kaJ3Bu-kFHJPvYI00gWh');
});

test('every spelling of a MAC gives the same token', { timeout: 60_000 }, () => {
  const token = phoneToken(SECRET, '001565aabbcc');
  for (const spelling of ['00:15:65:AA:BB:CC', '00-15-65-aa-bb-cc', '0015.65aa.bbcc', '001565AABBCC', ' 00:15:65:aa:bb:cc ']) {
    assert.equal(phoneToken(SECRET, spelling), token, spelling);
  }
});

test('tokens differ per MAC and per secret', { timeout: 60_000 }, () => {
  const tokens = new Set(['001565aabbcc', '001565aabbcd', '0c383e112233', '000413aabbcc'].map((mac) => phoneToken(SECRET, mac)));
  assert.equal(tokens.size, 4);
  assert.notEqual(phoneToken(SECRET, '001565aabbcc'), phoneToken(`${SECRET}2`, '001565aabbcc'));
});

test('an empty secret or a text that is not a MAC is refused with a one-line error', { timeout: 60_000 }, () => {
  assert.throws(() => phoneToken('', '001565aabbcc'), /secret must not be empty/);
  assert.throws(() => phoneToken(SECRET, '00:15:65:aa:bb'), /"00:15:65:aa:bb" is not a MAC address/);
});
