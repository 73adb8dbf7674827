import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhoneRegistry } from '../../src/server/phones.ts';
import { initialPhoneState } from '../../src/domain/reduce.ts';

const phone = (mac: string, lastEventId: number) => ({ ...initialPhoneState(mac, 0), lastEventId });

test('pages list every phone, however it was added and after pages were read', { timeout: 10_000 }, () => {
  const reg = new PhoneRegistry();
  reg.set(phone('aa0000000002', 1));
  assert.deepEqual(reg.page(undefined, 10).phones.map((p) => p.mac), ['aa0000000002']);
  // A state handed over by another receiver (shared store) for a phone not seen before.
  reg.setIfNewer(phone('aa0000000001', 2));
  reg.set(phone('aa0000000003', 3));
  assert.deepEqual(reg.page(undefined, 10).phones.map((p) => p.mac), ['aa0000000001', 'aa0000000002', 'aa0000000003']);
  assert.deepEqual(reg.page('aa0000000001', 1), { phones: [reg.get('aa0000000002')], more: true });
  reg.delete('aa0000000002');
  assert.deepEqual(reg.all().map((p) => p.mac), ['aa0000000001', 'aa0000000003']);
});

test('an older state of a known phone does not replace a newer one', { timeout: 10_000 }, () => {
  const reg = new PhoneRegistry();
  reg.set(phone('aa0000000001', 5));
  reg.setIfNewer(phone('aa0000000001', 4));
  assert.equal(reg.get('aa0000000001')!.lastEventId, 5);
  assert.equal(reg.size, 1);
});
