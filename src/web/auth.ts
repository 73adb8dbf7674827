/**
 * Dashboard sign-in. When the receiver runs with an admin token, a browser proves it knows the token once (on
 * the login page) and then carries a session cookie, because a browser cannot add `Authorization: Bearer` to
 * page loads or to an EventSource.
 *
 * The cookie holds no secret and needs no server-side session table: its value is an expiry time and an
 * HMAC-SHA256 of that expiry keyed with the admin token. Every receiver process that knows the token can check
 * it, it survives restarts, and changing the admin token signs every browser out.
 *
 *   actionurl_session_<id>=v1.<expiry, unix seconds>.<base64url HMAC-SHA256(adminToken, "actionurl-session:v1.<expiry>")>
 *
 * The name carries an id derived from the admin token, so two receivers on one host name (other ports) each
 * keep their own session instead of overwriting each other's, while receivers sharing a token (a cluster
 * behind one address) share it. A browser sends every cookie of a host name to every port, so the cookie is
 * kept short-lived (12 h, renewed while the dashboard is in use) and signing out revokes it on the spot.
 */
import { createHmac } from 'node:crypto';
import { cookieValues } from '../core/cookies.ts';
import { equalSecrets } from '../core/secret-compare.ts';
import type { HttpRequest } from '../http/types.ts';

export const SESSION_COOKIE = 'actionurl_session';

/** How long a sign-in lasts without use; a page load in the second half renews it. */
export const SESSION_SECONDS = 12 * 60 * 60;

/** This receiver's session cookie name (see above). */
export function sessionCookieName(adminToken: string): string {
  // Asked on every API request and page load: derived once per token.
  if (cookieName?.token !== adminToken) {
    cookieName = { token: adminToken, name: `${SESSION_COOKIE}_${createHmac('sha256', adminToken).update('actionurl-session-name').digest('hex').slice(0, 10)}` };
  }
  return cookieName.name;
}
let cookieName: { token: string; name: string } | undefined;

/** A session value's parts (`v1.<expiry>.<signature>`), the expiry in ms; undefined when it is not one. */
function parseSession(value: string): { payload: string; expiresMs: number; signature: string } | undefined {
  const m = /^(v1\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  return m ? { payload: m[1], expiresMs: Number(m[2]) * 1000, signature: m[3] } : undefined;
}

/** Signed-out sessions, until they would have expired (ms); bounded, oldest forgotten first. */
const revoked = new Map<string, number>();
const MAX_REVOKED = 10_000;

function isRevoked(value: string, nowMs: number): boolean {
  const until = revoked.get(value);
  if (until === undefined) return false;
  if (until > nowMs) return true;
  revoked.delete(value);
  return false;
}

/** Ends the sessions this request carries (sign out): they are refused from now on, not only forgotten by the browser. */
export function revokeSessions(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined, nowMs: number = Date.now()): void {
  if (!adminToken) return;
  for (const v of cookieValues(req.headers['cookie'], sessionCookieName(adminToken))) {
    if (!isValidSessionValue(v, adminToken, nowMs)) continue;
    revoked.set(v, parseSession(v)!.expiresMs);
    if (revoked.size > MAX_REVOKED) revoked.delete(revoked.keys().next().value!);
  }
}

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
  const session = parseSession(value);
  if (!session || session.expiresMs <= nowMs) return false;
  return equalSecrets(session.signature, signature(adminToken, session.payload)) && !isRevoked(value, nowMs);
}

/**
 * For the receiver's `/api` guard (next to `Authorization: Bearer`): true when the request carries a valid
 * dashboard session cookie for this admin token. False when no admin token is configured (nothing to check
 * against; the receiver does not guard then anyway).
 */
export function isAuthorizedByCookie(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  return cookieValues(req.headers['cookie'], sessionCookieName(adminToken)).some((v) => isValidSessionValue(v, adminToken));
}

/**
 * A fresh `Set-Cookie` when the request's session is valid but in the second half of its life, so a
 * dashboard in use stays signed in and an unused one lapses; undefined otherwise.
 */
export function renewedSessionSetCookie(req: Pick<HttpRequest, 'headers'>, adminToken: string | undefined, secure: boolean, nowMs: number = Date.now()): string | undefined {
  if (!adminToken) return undefined;
  const current = cookieValues(req.headers['cookie'], sessionCookieName(adminToken)).find((v) => isValidSessionValue(v, adminToken, nowMs));
  if (!current) return undefined;
  if (parseSession(current)!.expiresMs - nowMs > (SESSION_SECONDS * 1000) / 2) return undefined;
  return cookieHeader(adminToken, createSessionValue(adminToken, nowMs), SESSION_SECONDS, secure);
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
  return cookieHeader(adminToken, createSessionValue(adminToken), SESSION_SECONDS, secure);
}

/** `Set-Cookie` that removes the session from the browser (sign out; see revokeSessions for the receiver's side). */
export function clearSessionSetCookie(adminToken: string, secure: boolean): string {
  return cookieHeader(adminToken, '', 0, secure);
}

function cookieHeader(adminToken: string, value: string, maxAge: number, secure: boolean): string {
  return `${sessionCookieName(adminToken)}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
