import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { percentDecodeInto } from '../../src/core/bytes.ts';

const decode = (text: string, start = 0, end = Buffer.byteLength(text, 'latin1')) => {
  const bytes = Buffer.from(text, 'latin1');
  const out = Buffer.alloc(end - start);
  return out.subarray(0, percentDecodeInto(bytes, start, end, out)).toString('latin1');
};

describe('percent-decoding bytes', { timeout: 5_000 }, () => {
  test('valid escapes decode, in either case; + stays +', () => {
    assert.equal(decode('John%20Doe+%c3%A9'), 'John Doe+\u00c3\u00a9');
  });

  test('invalid or cut-off escapes stay as typed', () => {
    assert.equal(decode('100%'), '100%');
    assert.equal(decode('%zz%4'), '%zz%4');
    assert.equal(decode('%%41'), '%A');
  });

  test('only the given range is read: an escape cut by its end stays as typed', () => {
    assert.equal(decode('a=%41&b=%42', 2, 5), 'A');
    assert.equal(decode('a=%41&b=%42', 2, 4), '%4');
  });
});
