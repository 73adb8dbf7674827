import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { redactFields, redactToken, secretForms } from '../../src/server/redact.ts';
import { decodeRequestTarget } from '../../src/core/decode.ts';

const secrets = secretForms(['s3cret', 'adm1nTok']);
const redact = (t: string, s = secrets) => redactToken(Buffer.from(t, 'latin1'), s).toString('latin1');

describe('redaction of stored targets', { timeout: 120_000 }, () => {
  test('token values are blanked whatever the case of the name', () => {
    assert.equal(redact('/actionurl/x?mac=1&token=abc&b=2', []), '/actionurl/x?mac=1&token=***&b=2');
    assert.equal(redact('/actionurl/x?token=abc;mac=1', []), '/actionurl/x?token=***;mac=1');
    assert.equal(redact('/actionurl/x/mac=1&TOKEN=abc', []), '/actionurl/x/mac=1&TOKEN=***');
    assert.equal(redact('/actionurl/x?mykey=abc', []), '/actionurl/x?mykey=abc');
  });

  test('every token-like name, in any spelling, has its value blanked; other names keep theirs', () => {
    for (const name of ['access_token', 'Access-Token', 'ACCESS_TOKEN', 'access%5Ftoken', 'x-auth-token', 'mytoken', 'api_key', 'Password', 'passcode', 'client.secret']) {
      assert.equal(redact(`/actionurl/x?mac=1&${name}=guess&b=2`, []), `/actionurl/x?mac=1&${name}=***&b=2`, name);
    }
    for (const name of ['local', 'display_remote', 'tokens_left', 'keys']) {
      assert.equal(redact(`/actionurl/x?mac=1&${name}=guess`, []), `/actionurl/x?mac=1&${name}=guess`, name);
    }
  });

  test('decoded fields: secret names blanked, configured secrets blanked inside values and names, nothing else touched', () => {
    const plain = ['s3cret', 'adm1nTok'];
    assert.deepEqual(redactFields({ Access_Token: 'x', local: 's3cret', display_remote: 'Ann adm1nTok Lee', remote: '3001' }, plain, secrets),
      { Access_Token: '***', local: '***', display_remote: 'Ann *** Lee', remote: '3001' });
    assert.deepEqual(redactFields({ s3cret: '1', x: 'adm%31nTok' }, plain, secrets), { '***': '1', x: '***' });
    const clean = { remote: '3001', call_id: 'c1' };
    assert.equal(redactFields(clean, plain, secrets), clean);
  });

  test('a token name the decoder reads as token, however it was encoded, has its value blanked', () => {
    assert.equal(redact('/actionurl/x?mac=1&to%6Ben=guess', []), '/actionurl/x?mac=1&to%6Ben=***');
    assert.equal(redact('/actionurl/x?mac=1&%74%4F%6b%65%6E=guess&b=2', []), '/actionurl/x?mac=1&%74%4F%6b%65%6E=***&b=2');
    assert.equal(redact('/actionurl/x?mac=1&%20token=guess', []), '/actionurl/x?mac=1&%20token=***');
    // The Kelvin sign lower-cases to k: the decoder takes this for `token` too.
    const kelvin = Buffer.concat([Buffer.from('/actionurl/x?mac=1&to'), Buffer.from('\u212a', 'utf8'), Buffer.from('en=guess')]);
    assert.equal(decodeRequestTarget(kelvin).token, 'guess');
    assert.ok(!redactToken(kelvin).toString('utf8').includes('guess'));
  });

  test('a value the decoder joins over a raw & is blanked to its end', () => {
    const target = '/actionurl/x?mac=1&token=ab&cd&x=1';
    assert.equal(decodeRequestTarget(target).token, 'ab&cd');
    assert.equal(redact(target, []), '/actionurl/x?mac=1&token=***&x=1');
  });

  test('in Grandstream\'s path form the value ends at the query', () => {
    assert.equal(redact('/actionurl/x/mac=1&token=abc?b=2', []), '/actionurl/x/mac=1&token=***?b=2');
  });

  test('configured tokens are blanked wherever they appear, plain or percent-encoded', () => {
    assert.equal(redact('/actionurl/x?mac=1&token%3Ds3cret'), '/actionurl/x?mac=1&token%3D***');
    assert.equal(redact('/actionurl/x?mac=1&tok=s%33cr%65t&n=2'), '/actionurl/x?mac=1&tok=***&n=2');
    assert.equal(redact('/actionurl/s3cret?mac=1'), '/actionurl/***?mac=1');
    assert.equal(redact('/actionurl/x?access_token=adm1nTok&mac=1'), '/actionurl/x?access_token=***&mac=1');
    assert.equal(redact('/actionurl/x?a=s3crets3cret'), '/actionurl/x?a=***');
  });

  test('targets with nothing to blank are returned as they are', () => {
    const t = Buffer.from('/actionurl/incoming_call?mac=001565aabbcc&display_remote=Ann Lee');
    assert.equal(redactToken(t, secrets), t);
  });

  test('short configured tokens are only blanked as token values', () => {
    assert.deepEqual(secretForms(['ab', undefined]), []);
  });
});
