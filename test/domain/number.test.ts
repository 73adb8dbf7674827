/** The other party's number from `$remote` in the forms phones send it (docs/forwarding.md, docs/api.md). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { numberOf } from '../../src/domain/number.ts';

describe('the number in a remote', { timeout: 10_000 }, () => {
  test('the user part of a SIP URI, in each form phones send', () => {
    const cases: [string, string][] = [
      ['sip:3002@10.0.0.9', '3002'],
      ['sip:2001@pbx.example.com', '2001'],
      ['sips:2001@pbx.example.com:5061', '2001'],
      ['sip:+4930123456@pbx;user=phone', '+4930123456'],
      ['"Alice" <sip:2001@10.0.0.9>', '2001'],
      ['<sip:*97@pbx>', '*97'],
      ['tel:+49-30-1234', '+49-30-1234'],
      ['2001@10.0.0.9:5060', '2001'],
      ['2001', '2001'],
      [' +49 30 1234-5 ', '+49301234-5'],
      ['(030) 1234', '0301234'],
      ['alice.smith@pbx', 'alice.smith'],
    ];
    for (const [remote, number] of cases) assert.equal(numberOf(remote), number, remote);
  });

  test('nothing when the remote holds no number a phone can dial', () => {
    for (const remote of ['', 'sip:@pbx', 'sip:jörg@pbx', 'sip:2001&reboot=1@pbx', `sip:${'1'.repeat(65)}@pbx`, '<>']) {
      assert.equal(numberOf(remote), '', remote);
    }
  });
});
