/**
 * The working copy one event (or one expiry pass) edits. State objects stay immutable: every change to a call
 * makes a new CallState, and `finish` freezes the draft back into a PhoneState and the list of changed calls.
 */
import type { CallOutcome, CallState, PhoneState, Reduction } from './types.ts';
import { derivePresence } from './presence.ts';
import { stillRemembered } from './policy.ts';
import { CALL_LIMIT, MAX_OPEN_CALLS } from './limits.ts';

/** Bounds the memory of ended calls even when a phone ends many calls within the window. */
const MAX_RECENTLY_ENDED = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Draft {
  /** Time of the event (or of the expiry pass). */
  readonly at: number;
  /** The phone's last sign of life before this event: where a call whose end was never heard ends. */
  readonly lastAlive: number;
  /** Id stamped on calls this draft changes. */
  readonly eventId: number;
  readonly phone: Mutable<PhoneState>;
  /** Active calls, oldest first. */
  readonly calls: CallState[];
  /** Calls ended within the late-event window, oldest first. */
  recent: CallState[];
  /** Calls created, changed or ended, by `keyOf`. */
  readonly changed: Map<string, CallState>;
  /** A call that was dialing, talking or held ended here (so the phone may have gone idle). */
  endedBusyCall: boolean;
  endedAnyCall: boolean;
}

/** A call is one call id over one span of time: ids are reused after a call ends, the pair is not. */
export function keyOf(call: CallState): string {
  return `${call.callId}\u0000${call.startedAt}`;
}

export function openDraft(state: PhoneState, at: number, eventId: number): Draft {
  return {
    at,
    lastAlive: state.lastSeen,
    eventId,
    phone: { ...state },
    calls: [...state.calls],
    recent: [...(state.recentlyEnded ?? [])],
    changed: new Map(),
    endedBusyCall: false,
    endedAnyCall: false,
  };
}

/** Adds a new active call. */
export function addCall(d: Draft, call: CallState): CallState {
  d.calls.push(call);
  d.changed.set(keyOf(call), call);
  return call;
}

/** Replaces an active call by a changed copy. */
export function changeCall(d: Draft, call: CallState, patch: Partial<CallState>): CallState {
  const next = withoutUndefined({ ...call, ...patch, lastEventId: d.eventId, updatedAt: d.at });
  const index = d.calls.indexOf(call);
  if (index !== -1) d.calls[index] = next;
  d.changed.set(keyOf(next), next);
  return next;
}

/** Replaces a recently ended call by a corrected copy (a late event told us more about it). */
export function amendEndedCall(d: Draft, call: CallState, patch: Partial<CallState>): CallState {
  const next = withoutUndefined({ ...call, ...patch, lastEventId: d.eventId });
  const index = d.recent.indexOf(call);
  if (index !== -1) d.recent[index] = next;
  d.changed.set(keyOf(next), next);
  return next;
}

/** Optional fields set to undefined are dropped, so a state reads the same before and after a JSON round trip. */
function withoutUndefined(call: CallState): CallState {
  const copy: Record<string, unknown> = { ...call };
  for (const key of Object.keys(copy)) if (copy[key] === undefined) delete copy[key];
  return copy as unknown as CallState;
}

/** Takes a call back from the recently ended: the phone showed it was still alive. */
export function reviveCall(d: Draft, call: CallState, patch: Partial<CallState>): CallState {
  d.recent = d.recent.filter((c) => c !== call);
  const { endedBy: _endedBy, ...rest } = call;
  return addCall(d, {
    ...rest,
    ...patch,
    outcome: 'ongoing',
    endedAt: null,
    lastEventId: d.eventId,
    updatedAt: d.at,
  });
}

/**
 * The outcome of a call that ends without a more specific incident (call_terminated, busy_to_idle, reboot,
 * timeout). A transfer in progress means the call was handed on; a failed transfer that was not resumed means
 * the caller was lost.
 */
export function outcomeAtEnd(call: CallState): CallOutcome {
  if (call.transfer === 'failed') return 'failed';
  if (call.transfer !== undefined) return 'transferred';
  if (call.answeredAt !== null) return 'answered';
  return call.direction === 'incoming' ? 'missed' : 'failed';
}

/** Ends an active call. `endedAt` defaults to the event time. */
export function endCall(
  d: Draft,
  call: CallState,
  outcome: CallOutcome,
  endedBy: string,
  endedAt: number = d.at,
  remember = true,
): CallState {
  const ended: CallState = {
    ...call,
    phase: 'ended',
    outcome,
    endedAt,
    endedBy,
    lastEventId: d.eventId,
    updatedAt: d.at,
  };
  const index = d.calls.indexOf(call);
  if (index !== -1) d.calls.splice(index, 1);
  if (remember) d.recent.push(ended);
  d.changed.set(keyOf(ended), ended);
  d.endedAnyCall = true;
  if (call.phase !== 'ringing') d.endedBusyCall = true;
  return ended;
}

/**
 * When a call whose end was never heard ended: at `lastKnown` (its or its phone's last sign of life), but not
 * after `at` (the event that tells us) nor before the call started or was answered, whatever order events came in.
 */
export function endTimeWithin(call: CallState, lastKnown: number, at: number): number {
  return Math.max(call.answeredAt ?? call.startedAt, call.startedAt, Math.min(at, lastKnown));
}

/** Ends every active call as the phone's own termination would have. */
export function endAllCalls(d: Draft, endedBy: string): void {
  for (const call of [...d.calls]) endCall(d, call, outcomeAtEnd(call), endedBy);
}

/**
 * Freezes the draft. Keeps the phone-wide flags consistent with the calls: a dialing, talking or held call
 * means busy; when the last such call ended the phone went idle (firmware sends busy_to_idle right after, and
 * that request may be lost); a conversation's mute ends with the last call.
 */
export function finish(d: Draft): Reduction {
  const phone = d.phone;
  enforceCallLimit(d);
  const inCall = d.calls.some((c) => c.phase !== 'ringing');
  if (inCall) phone.busy = true;
  else if (d.endedBusyCall) phone.busy = false;
  if (d.endedAnyCall && d.calls.length === 0) phone.muted = false;
  phone.calls = d.calls;
  phone.recentlyEnded = d.recent
    .filter((c) => stillRemembered(c, d.at))
    .slice(-MAX_RECENTLY_ENDED);
  phone.presence = derivePresence(phone);
  return { state: phone, changedCalls: [...d.changed.values()] };
}

/**
 * A phone holds at most MAX_OPEN_CALLS calls (see limits.ts). Beyond, the oldest unanswered call is closed (a
 * ringing or dialing call whose end was lost is the likeliest stale one), else the oldest call; it ends when
 * it was last heard of, its outcome as if it had ended then, `endedBy: "call_limit"`.
 */
function enforceCallLimit(d: Draft): void {
  while (d.calls.length > MAX_OPEN_CALLS) {
    const victim = d.calls.find((c) => c.answeredAt === null) ?? d.calls[0];
    endCall(d, victim, outcomeAtEnd(victim), CALL_LIMIT, endTimeWithin(victim, victim.updatedAt ?? victim.startedAt, d.at));
  }
}
