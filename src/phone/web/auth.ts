/**
 * The phone web page's login: one admin account (admin/admin until changed, like a phone out of the box),
 * sessions in memory behind an HttpOnly, SameSite=Strict cookie, and a per-session token in every form.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface Session {
  id: string;
  csrf: string;
  /** A one-shot message for the next page (action errors, "saved"). */
  flash?: { kind: 'ok' | 'error'; text: string };
  lastSeen: number;
}

const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class Auth {
  private readonly sessions = new Map<string, Session>();
  private passwordDigest: Buffer;

  constructor(readonly username = 'admin', password = 'admin') {
    this.passwordDigest = digest(password);
  }

  /** Constant-time comparison of both fields (digests have equal length whatever was typed). */
  check(username: string, password: string): boolean {
    const userOk = timingSafeEqual(digest(username), digest(this.username));
    const passOk = timingSafeEqual(digest(password), this.passwordDigest);
    return userOk && passOk;
  }

  setPassword(password: string): void {
    this.passwordDigest = digest(password);
    // Everyone else is logged out when the password changes.
    this.sessions.clear();
  }

  create(): Session {
    const s: Session = { id: randomBytes(24).toString('base64url'), csrf: randomBytes(18).toString('base64url'), lastSeen: Date.now() };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeen > SESSION_IDLE_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = Date.now();
    return s;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** HTTP basic credentials, for scripts using the control API. */
  checkBasic(header: string | undefined): boolean {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return false;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon > 0 && this.check(text.slice(0, colon), text.slice(colon + 1));
  }
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = digest(a);
  const y = digest(b);
  return timingSafeEqual(x, y);
}
