/**
 * When to try a delivery again. The default is Standard Webhooks' schedule: at once, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after the previous attempt; after the last, the delivery is dead. Each
 * wait gets up to ±20 % jitter, so deliveries that failed together do not all come back together. Tests pass a
 * schedule of milliseconds.
 */

export const STANDARD_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

/** Retry-After is honoured up to this (a far-off date from a confused server does not park a delivery for a year). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

const JITTER = 0.2;

/**
 * The wait before the next attempt after `attempts` attempts failed (1 after the first), or undefined when
 * the schedule is used up (the delivery is dead). `random` is in [0, 1).
 */
export function nextRetryDelay(attempts: number, schedule: readonly number[], random: number): number | undefined {
  if (attempts >= schedule.length) return undefined;
  const base = schedule[attempts];
  return Math.max(0, Math.round(base * (1 + JITTER * (2 * random - 1))));
}

/**
 * A `Retry-After` value (seconds, or an HTTP date) as ms from `now`; undefined when absent or unreadable.
 * Capped at MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/** What an HTTP answer means for a delivery. */
export type AttemptVerdict =
  | { kind: 'delivered' }
  /** Try again later; `retryAfterMs` when the server said when. */
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  /** 410 Gone: the destination asked to be switched off. */
  | { kind: 'gone'; reason: string };

const RETRY_AFTER_STATUSES = new Set([429, 502, 503, 504]);

export function judgeResponse(status: number, retryAfter: string | undefined, now: number): AttemptVerdict {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone', reason: 'HTTP 410 Gone: the destination is switched off' };
  if (status >= 300 && status < 400) return { kind: 'retry', reason: `HTTP ${status}: redirects are not followed` };
  const reason = `HTTP ${status}`;
  if (RETRY_AFTER_STATUSES.has(status)) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    if (retryAfterMs !== undefined) return { kind: 'retry', reason: `${reason}, Retry-After ${Math.round(retryAfterMs / 1000)} s`, retryAfterMs };
  }
  return { kind: 'retry', reason };
}
