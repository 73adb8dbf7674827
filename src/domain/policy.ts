/**
 * The time spans the reducer judges lost, repeated and late requests by. Requests from one phone that belong
 * together are fired within milliseconds of each other, while a person needs seconds to act, so a few seconds
 * separate "the same thing again" from "something new".
 */
import type { CallState } from './types.ts';

/** The same request content again within this span is a copy, not a new happening. */
export const DUPLICATE_WINDOW_MS = 2_000;

/** An event about a call that ended at most this long ago is a late or repeated one about that call. */
export const LATE_EVENT_WINDOW_MS = 3_000;

/**
 * No call rings or dials for longer than this (SIP gives up after about three minutes); `expireCalls` closes
 * unanswered calls after it even when its timeout for answered calls is longer.
 */
export const UNANSWERED_CALL_LIMIT_MS = 5 * 60_000;

/** The incident after which a ringing call may live on (call waiting): see `isSupersededRinging`. */
export const BUSY_TO_IDLE = 'busy_to_idle';

/**
 * A ringing call that busy_to_idle closed. The phone may go idle while a waiting call still rings, so such a
 * call may yet be answered, refused or missed.
 */
export function isSupersededRinging(call: CallState): boolean {
  return call.endedBy === BUSY_TO_IDLE && call.answeredAt === null;
}

/** Whether an ended call is still remembered at `at`, to recognise late events about it. */
export function stillRemembered(call: CallState, at: number): boolean {
  if (call.endedAt === null) return false;
  const span = isSupersededRinging(call) ? UNANSWERED_CALL_LIMIT_MS : LATE_EVENT_WINDOW_MS;
  return !(at - call.endedAt > span);
}
