/**
 * Dashboard sign-in. When the receiver runs with an admin token, a browser proves it knows the token once (on
 * the login page) and then carries a session cookie, because a browser cannot add `Authorization: Bearer` to
 * page loads or to an EventSource.
 *
 * The cookie holds no secret and needs no server-side session table: its value is an expiry time and an
 * HMAC-SHA256 of that expiry keyed with the admin token. Every receiver process that knows the token can check
 * it, it survives restarts, and changing the admin token signs every browser out.
 *
 *   actionurl_session=v1.<expiry, unix seconds>.<base64url HMAC-SHA256(adminToken, "actionurl-session:v1.<expiry>")>
 */
import { createHmac } from 'node:crypto';
import { cookieValues } from '../core/cookies.ts';
import { equalSecrets } from '../core/secret-compare.ts';
import type { HttpRequest } from '../http/types.ts';

export const SESSION_COOKIE = 'actionurl_session';

/** How long a sign-in lasts. */
export const SESSION_SECONDS = 30 * 24 * 60 * 60;

function signature(adminToken: string, payload: string): string {
  return createHmac('sha256', adminToken).update(`actionurl-session:${payload}`).digest('base64url');
}

/** A fresh cookie value for someone who just proved they know `adminToken`. */
export function createSessionValue(adminToken: string, nowMs: number = Date.now()): string {
  const payload = `v1.${Math.floor(nowMs / 1000) + SESSION_SECONDS}`;
  return `${payload}.${signature(adminToken, payload)}`;
}

/** True when `value` is a session cookie value made with `adminToken` that has not expired. */
export function isValidSessionValue(value: string, adminToken: string, nowMs: number = Date.now()): boolean {
  const m = /^(v1\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  if (Number(m[2]) * 1000 <= nowMs) return false;
  return equalSecrets(m[3], signature(adminToken, m[1]));
}

/**
 * For the receiver's `/api` guard (next to `Authorization: Bearer`): true when the request carries a valid
 * dashboard session cookie for this admin token. False when no admin token is configured (nothing to check
 * against; the receiver does not guard then anyway).
 */
export function isAuthorizedByCookie(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  return cookieValues(req.headers['cookie'], SESSION_COOKIE).some((v) => isValidSessionValue(v, adminToken));
}

/** True when the request carries the admin token as `Authorization: Bearer <token>`. */
export function isAuthorizedByBearer(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  const m = /^Bearer[ \t]+(.+?)\s*$/i.exec(req.headers['authorization'] ?? '');
  return m !== null && equalSecrets(m[1], adminToken);
}

/** Whether a request may see the dashboard's data: always without an admin token, else by cookie or Bearer. */
export function isAuthorized(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined): boolean {
  return !adminToken || isAuthorizedByCookie(req, adminToken) || isAuthorizedByBearer(req, adminToken);
}

/** `Set-Cookie` for a new session. `secure` when the dashboard is reached over HTTPS. */
export function sessionSetCookie(adminToken: string, secure: boolean): string {
  return cookieHeader(createSessionValue(adminToken), SESSION_SECONDS, secure);
}

/** `Set-Cookie` that removes the session (sign out). */
export function clearSessionSetCookie(secure: boolean): string {
  return cookieHeader('', 0, secure);
}

function cookieHeader(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
