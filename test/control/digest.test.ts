/**
 * HTTP Digest (RFC 7616) as both sides compute it: the RFC's own examples, challenge parsing as phones
 * write it, which challenge the receiver answers, and the phone's check of an answer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseDigest, digestAuthorization, digestResponse, parseChallenges, verifyDigest, type DigestChallenge } from '../../src/core/control/index.ts';

// RFC 7616 section 3.9.1.
const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: 1,
};
const RFC_CHALLENGE = { realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS', qop: 'auth' as const };

describe('HTTP Digest', { timeout: 10_000 }, () => {
  test('the RFC 7616 examples: MD5 and SHA-256 responses', () => {
    assert.equal(digestResponse({ ...RFC, challenge: { ...RFC_CHALLENGE, algorithm: 'MD5' } }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(digestResponse({ ...RFC, challenge: { ...RFC_CHALLENGE, algorithm: 'SHA-256' } }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  test('several challenges in one header, quoted commas and escapes kept', () => {
    const header = 'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="a,b", opaque="x\\"y", Digest realm="r", nonce="n2", algorithm=MD5, Basic realm="phone"';
    const got = parseChallenges(header);
    assert.deepEqual(got.map((c) => c.scheme), ['Digest', 'Digest', 'Basic']);
    assert.equal(got[0].params.qop, 'auth, auth-int');
    assert.equal(got[0].params.nonce, 'a,b');
    assert.equal(got[0].params.opaque, 'x"y');
    assert.equal(got[2].params.realm, 'phone');
  });

  test('the strongest usable challenge is answered; auth-int only or an unknown algorithm is refused with the reason', () => {
    const both = [...parseChallenges('Digest realm="p", nonce="1", qop="auth", algorithm=MD5'), ...parseChallenges('Digest realm="p", nonce="2", qop="auth", algorithm=SHA-256')];
    assert.deepEqual(chooseDigest(both), { realm: 'p', nonce: '2', algorithm: 'SHA-256', qop: 'auth' });
    // No qop and no algorithm: the old RFC 2069 form, MD5.
    assert.deepEqual(chooseDigest(parseChallenges('Digest realm="p", nonce="3"')), { realm: 'p', nonce: '3', algorithm: 'MD5' });
    assert.equal(chooseDigest(parseChallenges('Basic realm="p"')), undefined);
    const intOnly = chooseDigest(parseChallenges('Digest realm="p", nonce="4", qop="auth-int"'));
    assert.ok(intOnly && 'error' in intOnly && /qop=auth-int/.test(intOnly.error));
    const unknown = chooseDigest(parseChallenges('Digest realm="p", nonce="5", qop="auth", algorithm=SHA3-512'));
    assert.ok(unknown && 'error' in unknown && /SHA3-512/.test(unknown.error));
  });

  test('the phone accepts the right answer and refuses a wrong password, another URI, another realm, a stale nonce', () => {
    const challenge: DigestChallenge = { realm: 'Snom D785', nonce: 'n-1', algorithm: 'SHA-256', qop: 'auth' };
    const uri = '/command.htm?key=DND';
    const header = digestAuthorization({ challenge, username: 'admin', password: 'pw"\\x', method: 'GET', uri, cnonce: 'c1', nc: 1 });
    const check = (over: Partial<Parameters<typeof verifyDigest>[0]> = {}) => verifyDigest({
      header, method: 'GET', uri, realm: 'Snom D785', algorithms: ['SHA-256', 'MD5'],
      nonceValid: (n) => n === 'n-1', passwordOf: (u) => (u === 'admin' ? 'pw"\\x' : undefined), ...over,
    });
    assert.deepEqual(check(), { outcome: 'ok', username: 'admin' });
    assert.equal(check({ passwordOf: () => 'other' }).outcome, 'wrong');
    assert.equal(check({ passwordOf: () => undefined }).outcome, 'wrong');
    assert.equal(check({ uri: '/command.htm?key=CANCEL' }).outcome, 'wrong');
    assert.equal(check({ realm: 'other' }).outcome, 'wrong');
    assert.equal(check({ algorithms: ['MD5'] }).outcome, 'wrong');
    assert.equal(check({ nonceValid: () => false }).outcome, 'stale');
    assert.equal(check({ header: 'Basic YWRtaW46YWRtaW4=' }).outcome, 'none');
    assert.equal(check({ header: 'Digest garbage ,,, ="' }).outcome, 'wrong');
  });

  test('a user name outside ASCII goes as username* and is read back', () => {
    const challenge: DigestChallenge = { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: 'auth' };
    const header = digestAuthorization({ challenge, username: 'Jäsøn', password: 'p', method: 'GET', uri: '/x', cnonce: 'c', nc: 1 });
    assert.match(header, /username\*=UTF-8''J%C3%A4s%C3%B8n/);
    const got = verifyDigest({ header, method: 'GET', uri: '/x', realm: 'r', algorithms: ['MD5'], nonceValid: () => true, passwordOf: (u) => (u === 'Jäsøn' ? 'p' : undefined) });
    assert.equal(got.outcome, 'ok');
  });
});
