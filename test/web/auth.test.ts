import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSessionValue, isAuthorized, isAuthorizedByCookie, isValidSessionValue, SESSION_COOKIE, SESSION_SECONDS,
} from '../../src/web/auth.ts';

const TOKEN = 'correct horse battery staple';
const withCookie = (cookie: string) => ({ headers: { cookie } });

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
