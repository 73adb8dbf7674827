import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { equalSecretBytes, equalSecrets } from '../../src/core/secret-compare.ts';

describe('secret comparison', { timeout: 5_000 }, () => {
  test('only the exact secret matches', () => {
    assert.equal(equalSecrets('abc', 'abc'), true);
    assert.equal(equalSecrets('abd', 'abc'), false);
    assert.equal(equalSecrets('ab', 'abc'), false, 'a prefix is not the secret');
    assert.equal(equalSecrets('abcd', 'abc'), false, 'nor is a longer value that starts with it');
    assert.equal(equalSecrets('', 'abc'), false);
    assert.equal(equalSecrets('ABC', 'abc'), false, 'case counts');
  });

  test('a missing value never matches', () => {
    assert.equal(equalSecrets(null, 'abc'), false);
    assert.equal(equalSecrets(undefined, 'abc'), false);
    assert.equal(equalSecrets(null, ''), false, 'not even an empty secret');
  });

  test('non-ASCII secrets compare by their UTF-8 bytes', () => {
    assert.equal(equalSecrets('pässwörd', 'pässwörd'), true);
    // Same length in UTF-16 code units, different UTF-8 bytes.
    assert.equal(equalSecrets('passwörd', 'pässword'), false);
    assert.equal(equalSecrets('e\u0301', '\u00e9'), false, 'no Unicode normalisation: a secret is its bytes');
  });

  test('bytes in hand compare the same way', () => {
    assert.equal(equalSecretBytes(Buffer.from('tok'), Buffer.from('tok')), true);
    assert.equal(equalSecretBytes(Buffer.from('tok'), Buffer.from('tak')), false);
    assert.equal(equalSecretBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
  });
});
