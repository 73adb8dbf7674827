/**
 * The phone web page's login: one admin account (admin/admin until changed, like a phone out of the box),
 * sessions in memory behind an HttpOnly, SameSite=Strict cookie, and a per-session token in every form.
 * Wrong logins are counted per source address (the dashboard's limit); sessions idle for 8 hours are swept,
 * and at most `maxSessions` are kept (the least recently used one goes first).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { LoginThrottle } from '../../core/login-guard.ts';

export interface Session {
  id: string;
  csrf: string;
  /** A one-shot message for the next page (action errors, "saved"). */
  flash?: { kind: 'ok' | 'error'; text: string };
  lastSeen: number;
}

export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
export const MAX_SESSIONS = 1000;
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface AuthOptions {
  /** Clock for session idle times and the wrong-login window (tests pass their own). */
  now?: () => number;
  maxSessions?: number;
  idleMs?: number;
}

export class Auth {
  /** In least-recently-used order: a session is moved to the end whenever it is used. */
  private readonly sessions = new Map<string, Session>();
  private passwordDigest: Buffer;
  /** Kept for HTTP Digest, which needs the password itself (as every phone that offers Digest keeps it). */
  private password: string;
  private readonly now: () => number;
  private readonly maxSessions: number;
  private readonly idleMs: number;
  /** Wrong logins (form or basic credentials) per source address. */
  readonly throttle = new LoginThrottle();

  constructor(readonly username = 'admin', password = 'admin', options: AuthOptions = {}) {
    this.passwordDigest = digest(password);
    this.password = password;
    this.now = options.now ?? Date.now;
    this.maxSessions = Math.max(1, options.maxSessions ?? MAX_SESSIONS);
    this.idleMs = options.idleMs ?? SESSION_IDLE_MS;
  }

  /** Constant-time comparison of both fields (digests have equal length whatever was typed). */
  check(username: string, password: string): boolean {
    const userOk = timingSafeEqual(digest(username), digest(this.username));
    const passOk = timingSafeEqual(digest(password), this.passwordDigest);
    return userOk && passOk;
  }

  /**
   * A login attempt from `address`: 'blocked' (too many wrong ones lately; nothing was checked), 'wrong'
   * (counted against the address) or 'ok'.
   */
  attempt(address: string, username: string, password: string): 'ok' | 'wrong' | 'blocked' {
    const now = this.now();
    if (this.throttle.blocked(address, now)) return 'blocked';
    if (this.check(username, password)) return 'ok';
    this.throttle.fail(address, now);
    return 'wrong';
  }

  /** Seconds until `address` may try to log in again (0: now). */
  retryAfter(address: string): number {
    return this.throttle.retryAfter(address, this.now());
  }

  /** The password of `username` when it is the account's (HTTP Digest checks compute with it). */
  passwordOf(username: string): string | undefined {
    return timingSafeEqual(digest(username), digest(this.username)) ? this.password : undefined;
  }

  /** The outcome of a check made elsewhere (HTTP Digest): a wrong one counts against the address. */
  record(address: string, ok: boolean): 'ok' | 'wrong' | 'blocked' {
    const now = this.now();
    if (this.throttle.blocked(address, now)) return 'blocked';
    if (ok) return 'ok';
    this.throttle.fail(address, now);
    return 'wrong';
  }

  setPassword(password: string): void {
    this.passwordDigest = digest(password);
    this.password = password;
    // Everyone else is logged out when the password changes.
    this.sessions.clear();
  }

  create(): Session {
    const now = this.now();
    this.sweep(now);
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) break;
      this.sessions.delete(oldest.value);
    }
    const s: Session = { id: randomBytes(24).toString('base64url'), csrf: randomBytes(18).toString('base64url'), lastSeen: now };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.now();
    this.sessions.delete(id);
    if (now - s.lastSeen > this.idleMs) return undefined;
    s.lastSeen = now;
    this.sessions.set(id, s);
    return s;
  }

  /** Sessions held in memory right now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Drops idle sessions; they sit at the front of the map, so this stops at the first live one. */
  private sweep(now: number): void {
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen <= this.idleMs) break;
      this.sessions.delete(id);
    }
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /**
   * HTTP basic credentials, for scripts using the control API: 'none' when the header carries none, else the
   * outcome of a login attempt from `address` (wrong ones count like wrong form logins).
   */
  basic(header: string | undefined, address: string): 'ok' | 'wrong' | 'blocked' | 'none' {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return 'none';
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon > 0 ? this.attempt(address, text.slice(0, colon), text.slice(colon + 1)) : this.attempt(address, '', '');
  }
}
