import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAddressOf } from '../../src/http/server-url.ts';

type Req = Parameters<typeof serverAddressOf>[0];
const req = (headers: Record<string, string>, more: Partial<Req> = {}): Req => ({ headers, secure: false, ...more });

describe('the receiver\'s base URL', { timeout: 5_000 }, () => {
  test('the configured public URL wins, normalised', () => {
    assert.deepEqual(serverAddressOf(req({ host: 'ignored:1' }), { publicUrl: 'https://pbx.example.com/' }), {
      url: 'https://pbx.example.com',
      source: 'configured',
    });
  });

  test('an unusable public URL gives way to the request\'s Host', () => {
    assert.deepEqual(serverAddressOf(req({ host: '10.0.0.5:8080' }), { publicUrl: 'not a url' }), {
      url: 'http://10.0.0.5:8080',
      source: 'request',
    });
  });

  test('HTTPS when the receiver, the connection or a proxy says so', () => {
    assert.equal(serverAddressOf(req({ host: 'h:1' }), { tls: true }).url, 'https://h:1');
    assert.equal(serverAddressOf(req({ host: 'h:1' }, { secure: true })).url, 'https://h:1');
    assert.equal(serverAddressOf(req({ host: 'h:1', 'x-forwarded-proto': 'HTTPS' })).url, 'https://h:1');
    assert.equal(serverAddressOf(req({ host: 'h:1', 'x-forwarded-proto': 'http' })).url, 'http://h:1');
  });

  test('without Host (HTTP/1.0), the address the request arrived on; IPv6 in brackets', () => {
    assert.equal(serverAddressOf(req({}, { localAddress: '192.0.2.7', localPort: 8080 })).url, 'http://192.0.2.7:8080');
    assert.equal(serverAddressOf(req({}, { localAddress: '2001:db8::1', localPort: 8443 })).url, 'http://[2001:db8::1]:8443');
  });

  test('a hostile Host is refused with one line, or replaced by the fallback when one is given', () => {
    const evil = req({ host: 'x"><script>alert(1)</script>' });
    assert.throws(() => serverAddressOf(evil), (err: Error) => /Host header .* is not a host name/.test(err.message) && !err.message.includes('\n'));
    assert.deepEqual(serverAddressOf(evil, { fallback: 'http://127.0.0.1:8080' }), { url: 'http://127.0.0.1:8080', source: 'request' });
    assert.throws(() => serverAddressOf(req({ host: `a${'b'.repeat(10_000)} c` })), (err: Error) => err.message.length < 200);
  });
});
