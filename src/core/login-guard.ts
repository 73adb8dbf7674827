/**
 * What both sign-in forms (the receiver's dashboard and the phone's web page) use against guessing and
 * cross-site posts: a count of wrong logins per source address, and the same-origin check for form posts.
 * No sockets or clocks inside: callers pass the headers and the time.
 */

/** Wrong logins allowed per source address per window, so a password or token cannot be guessed at speed. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_WINDOW_MS = 60_000;

/** Addresses remembered before expired windows are swept, so a scan from many addresses cannot grow the map for ever. */
const SWEEP_ABOVE = 10_000;

/** Counts failed logins per source address in fixed windows. */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly allowed = LOGIN_FAILURES_ALLOWED,
    private readonly windowMs = LOGIN_WINDOW_MS,
  ) {}

  /** Whole seconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string, now: number): number {
    const entry = this.failures.get(address);
    if (entry === undefined || entry.until <= now || entry.count < this.allowed) return 0;
    return Math.max(1, Math.ceil((entry.until - now) / 1000));
  }

  blocked(address: string, now: number): boolean {
    return this.retryAfter(address, now) > 0;
  }

  fail(address: string, now: number): void {
    const entry = this.failures.get(address);
    if (entry && entry.until > now) entry.count++;
    else this.failures.set(address, { count: 1, until: now + this.windowMs });
    if (this.failures.size > SWEEP_ABOVE) for (const [k, v] of this.failures) if (v.until <= now) this.failures.delete(k);
  }

  /** Addresses currently remembered (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }
}

/**
 * A state-changing form post (sign-in, sign-out) must come from our own pages. Browsers send `Sec-Fetch-Site`
 * and `Origin` on POST; a request without either (curl, scripts) is allowed, one naming another site is not.
 */
export function isSameOriginPost(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers['origin'];
  if (origin === undefined || origin === '') return true;
  const host = headers['host'];
  if (typeof origin !== 'string' || typeof host !== 'string' || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
