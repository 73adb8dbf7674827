import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSessionValue, isAuthorized, isAuthorizedByCookie, isValidSessionValue, renewedSessionSetCookie, revokeSessions, sessionCookieName, SESSION_SECONDS,
} from '../../src/web/auth.ts';

const TOKEN = 'correct horse battery staple';
const withCookie = (cookie: string) => ({ headers: { cookie } });
const SESSION_COOKIE = sessionCookieName(TOKEN);

describe('dashboard session cookie', { timeout: 180_000 }, () => {
  it('accepts a cookie made with the admin token', () => {
    const value = createSessionValue(TOKEN);
    assert.equal(isAuthorizedByCookie(withCookie(`${SESSION_COOKIE}=${value}`), TOKEN), true);
    assert.equal(isAuthorizedByCookie(withCookie(`theme=dark; ${SESSION_COOKIE}=${value}; other=1`), TOKEN), true);
  });

  it('refuses a cookie made with another token: changing the admin token signs everyone out', () => {
    const value = createSessionValue('old token');
    assert.equal(isAuthorizedByCookie(withCookie(`${SESSION_COOKIE}=${value}`), TOKEN), false);
  });

  it('refuses the admin token itself, tampered values and expired sessions', () => {
    assert.equal(isAuthorizedByCookie(withCookie(`${SESSION_COOKIE}=${TOKEN}`), TOKEN), false);
    const value = createSessionValue(TOKEN);
    const [v, expiry, sig] = value.split('.');
    const later = `${v}.${Number(expiry) + 1000}.${sig}`;
    assert.equal(isValidSessionValue(later, TOKEN), false);
    const now = Date.now();
    assert.equal(isValidSessionValue(createSessionValue(TOKEN, now - (SESSION_SECONDS + 10) * 1000), TOKEN, now), false);
    assert.equal(isValidSessionValue('', TOKEN), false);
  });

  it('needs a configured admin token to authorize by cookie', () => {
    const value = createSessionValue(TOKEN);
    assert.equal(isAuthorizedByCookie(withCookie(`${SESSION_COOKIE}=${value}`), undefined), false);
    assert.equal(isAuthorizedByCookie({ headers: {} }, TOKEN), false);
  });

  it('lets everyone in when no admin token is set, else cookie or Bearer', () => {
    assert.equal(isAuthorized({ headers: {} }, undefined), true);
    assert.equal(isAuthorized({ headers: {} }, TOKEN), false);
    assert.equal(isAuthorized({ headers: { authorization: `Bearer ${TOKEN}` } }, TOKEN), true);
    assert.equal(isAuthorized({ headers: { authorization: 'Bearer nope' } }, TOKEN), false);
  });
});

describe('session cookie: one receiver\'s, short-lived, revocable', { timeout: 60_000 }, () => {
  it('is named for its receiver: another admin token (another receiver on this host) uses another name', () => {
    assert.match(SESSION_COOKIE, /^actionurl_session_[0-9a-f]{10}$/);
    assert.notEqual(sessionCookieName('another receiver token'), SESSION_COOKIE);
    assert.equal(sessionCookieName(TOKEN), SESSION_COOKIE, 'receivers sharing a token share it');
    assert.equal(isAuthorizedByCookie(withCookie(`actionurl_session=${createSessionValue(TOKEN)}`), TOKEN), false, 'not under another name');
  });

  it('lasts hours, not weeks, and is renewed only in the second half of its life', () => {
    const now = Date.UTC(2026, 11, 8, 12);
    assert.ok(SESSION_SECONDS <= 24 * 3600, `${SESSION_SECONDS} s`);
    const fresh = createSessionValue(TOKEN, now);
    assert.equal(renewedSessionSetCookie(withCookie(`${SESSION_COOKIE}=${fresh}`), TOKEN, false, now + 60_000), undefined);
    const later = now + (SESSION_SECONDS / 2 + 60) * 1000;
    const renewed = renewedSessionSetCookie(withCookie(`${SESSION_COOKIE}=${fresh}`), TOKEN, false, later);
    assert.ok(renewed?.startsWith(`${SESSION_COOKIE}=v1.`), String(renewed));
    const value = renewed!.split(';')[0].split('=')[1];
    assert.ok(isValidSessionValue(value, TOKEN, later + (SESSION_SECONDS - 120) * 1000), 'the renewed one runs a full lifetime from now');
    assert.equal(renewedSessionSetCookie(withCookie(`${SESSION_COOKIE}=${fresh}`), TOKEN, false, now + (SESSION_SECONDS + 1) * 1000), undefined, 'an expired one is not renewed');
  });

  it('signing out revokes it on the receiver: a copy kept elsewhere no longer gets in', () => {
    const value = createSessionValue(TOKEN);
    const req = withCookie(`${SESSION_COOKIE}=${value}`);
    const other = createSessionValue(TOKEN, Date.now() - 1000);
    assert.equal(isAuthorizedByCookie(req, TOKEN), true);
    revokeSessions(req, TOKEN);
    assert.equal(isAuthorizedByCookie(req, TOKEN), false);
    assert.equal(isAuthorizedByCookie(withCookie(`${SESSION_COOKIE}=${other}`), TOKEN), true, 'other sessions go on');
  });
});
