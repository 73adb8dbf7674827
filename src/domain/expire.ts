/**
 * Closing calls whose end we never heard of. Phones never retry, so a lost call_terminated (and busy_to_idle)
 * would leave a call open forever; after a long enough silence it is taken as over.
 */
import type { PhoneState, Reduction } from './types.ts';
import { endCall, finish, openDraft, outcomeAtEnd } from './draft.ts';
import { UNANSWERED_CALL_LIMIT_MS } from './policy.ts';

/** `endedBy` of calls `expireCalls` closed. */
export const TIMED_OUT = 'timeout';

/**
 * Ends every call that saw no event for `timeoutMs` (unanswered calls: for `unansweredTimeoutMs`, at most
 * five minutes by default, since nothing rings longer). The outcome is what call_terminated would have given;
 * the end time is the last time the call was heard of, since that is all we know. A phone silent for
 * `timeoutMs` with no call left is no longer busy. Returns `state` itself when nothing changed.
 */
export function expireCalls(
  state: PhoneState,
  now: number,
  timeoutMs: number,
  unansweredTimeoutMs: number = Math.min(timeoutMs, UNANSWERED_CALL_LIMIT_MS),
): Reduction {
  const d = openDraft(state, now, state.lastEventId);
  for (const call of [...d.calls]) {
    const lastHeard = call.updatedAt ?? call.answeredAt ?? call.startedAt;
    const limit = call.answeredAt === null ? unansweredTimeoutMs : timeoutMs;
    if (now - lastHeard >= limit) endCall(d, call, outcomeAtEnd(call), TIMED_OUT, lastHeard, false);
  }
  const silent = now - state.lastSeen >= timeoutMs;
  if (d.calls.length === 0 && silent) d.phone.busy = false;
  if (d.changed.size === 0 && d.phone.busy === state.busy) return { state, changedCalls: [] };
  return finish(d);
}
