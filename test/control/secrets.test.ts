import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadControlKey, parseKey, SecretBox } from '../../src/server/control/secrets.ts';
import { resolveTarget } from '../../src/server/control/target.ts';

describe('sealed credentials', { timeout: 60_000 }, () => {
  test('open only with the same key and for the same phone; tampering is detected', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('001565000001', { username: 'admin', password: 'pw' });
    assert.equal(sealed.includes('pw'), false);
    assert.deepEqual(box.open('001565000001', sealed), { username: 'admin', password: 'pw' });
    assert.equal(box.open('001565000002', sealed), undefined);
    assert.equal(new SecretBox(randomBytes(32)).open('001565000001', sealed), undefined);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] ^= 1;
    assert.equal(box.open('001565000001', flipped), undefined);
    assert.equal(box.open('001565000001', Buffer.alloc(3)), undefined);
    // A fresh IV each time: the same credentials never seal to the same bytes.
    assert.notDeepEqual(box.seal('001565000001', { username: 'admin', password: 'pw' }), sealed);
  });

  test('the key file: created 0600, read back, loosened permissions tightened, garbage refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-key-'));
    try {
      const file = join(dir, 'sub', 'control.key');
      const first = loadControlKey({ keyFile: file });
      assert.equal(first.source, 'created');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const again = loadControlKey({ keyFile: file });
      assert.equal(again.source, 'file');
      assert.deepEqual(again.key, first.key);
      chmodSync(file, 0o644);
      loadControlKey({ keyFile: file });
      assert.equal(statSync(file).mode & 0o777, 0o600);
      writeFileSync(file, 'not a key');
      assert.throws(() => loadControlKey({ keyFile: file }), /is not a control key/);
      assert.throws(() => loadControlKey({ key: 'short' }), /--control-key: expected 32 bytes/);
      assert.equal(loadControlKey({}).source, 'ephemeral');
      const hex = randomBytes(32).toString('hex');
      assert.deepEqual(loadControlKey({ key: hex, keyFile: file }).key, Buffer.from(hex, 'hex'));
      assert.equal(readFileSync(file, 'utf8'), 'not a key');
      assert.equal(parseKey(randomBytes(32).toString('base64'))?.length, 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('control target', { timeout: 60_000 }, () => {
  test('the address is only the approved url, never what events report; the vendor from the model; set values win', () => {
    assert.match((resolveTarget({ mac: '001565000001', seen: { model: 'SIP-T46U' } }) as { error: string }).error, /no approved control address for this phone/);
    assert.deepEqual(resolveTarget({ mac: '001565000001', settings: { url: 'http://10.0.0.7', vendor: null }, seen: { model: 'SIP-T46U' }, defaults: { username: 'a', password: 'b' } }),
      { baseUrl: 'http://10.0.0.7', vendor: 'yealink', vendorFrom: 'events', credentials: { username: 'a', password: 'b' } });
    assert.deepEqual(resolveTarget({ mac: '001565000001', settings: { url: 'https://p/', vendor: 'snom' }, seen: { model: 'SIP-T46U' } }),
      { baseUrl: 'https://p', vendor: 'snom', vendorFrom: 'set' });
    assert.match((resolveTarget({ mac: '0a0000000000', seen: { model: 'Acme' } }) as { error: string }).error, /cannot tell which vendor/);
  });
});
