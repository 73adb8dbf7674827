/**
 * What each call incident does to the calls. Every handler first looks for the active call the event is
 * about; failing that, for a call that ended moments ago (the event is a copy or arrived late); failing that,
 * it creates the call when the incident proves one exists, and otherwise leaves the calls alone.
 */
import type { CallOutcome, CallState } from './types.ts';
import {
  type Draft,
  addCall,
  amendEndedCall,
  changeCall,
  endCall,
  outcomeAtEnd,
  reviveCall,
} from './draft.ts';
import {
  type CallFilter,
  type CallReference,
  anyCall,
  findCall,
  isAnswered,
  isDialing,
  isHeld,
  isRinging,
  isTalking,
  isTransferring,
  isUnanswered,
  syntheticId,
} from './match.ts';
import { isSupersededRinging } from './policy.ts';

/** One event, as the call handlers read it. */
export interface CallEvent {
  readonly incident: string;
  readonly ref: CallReference;
  readonly remote: string;
  readonly displayRemote: string;
  readonly local: string;
  /** Direction the phone stated, if any. */
  readonly direction: CallState['direction'];
}

export type CallHandler = (d: Draft, e: CallEvent) => void;

function newCall(
  d: Draft,
  e: CallEvent,
  direction: CallState['direction'],
  phase: CallState['phase'],
  answered: boolean,
): CallState {
  return {
    callId: e.ref.callId !== '' ? e.ref.callId : syntheticId(d.eventId, d.calls),
    direction,
    remote: e.remote,
    displayRemote: e.displayRemote,
    local: e.local,
    phase,
    outcome: 'ongoing',
    muted: false,
    startedAt: d.at,
    answeredAt: answered ? d.at : null,
    endedAt: null,
    lastEventId: d.eventId,
    updatedAt: d.at,
  };
}

/** What the event tells about a call we already know and it did not: the parties, the direction. */
function blanksFilled(call: CallState, e: CallEvent, direction?: 'incoming' | 'outgoing'): Partial<CallState> {
  const patch: { -readonly [K in keyof CallState]?: CallState[K] } = {};
  if (call.remote === '' && e.remote !== '') patch.remote = e.remote;
  if (call.displayRemote === '' && e.displayRemote !== '') patch.displayRemote = e.displayRemote;
  if (call.local === '' && e.local !== '') patch.local = e.local;
  const stated = direction ?? (e.direction === 'unknown' ? undefined : e.direction);
  if (call.direction === 'unknown' && stated) patch.direction = stated;
  return patch;
}

function fill(d: Draft, call: CallState, e: CallEvent, direction?: 'incoming' | 'outgoing'): CallState {
  const patch = blanksFilled(call, e, direction);
  return Object.keys(patch).length > 0 ? changeCall(d, call, patch) : call;
}

/**
 * The recently ended call this event repeats or arrived late for. A different remote party means a different
 * call even under the same id (phones reuse their call handles).
 */
function endedCallFor(d: Draft, e: CallEvent, direction?: 'incoming' | 'outgoing'): CallState | undefined {
  const ended = findCall(d.recent, e.ref, anyCall);
  if (!ended) return undefined;
  if (e.remote !== '' && ended.remote !== '' && ended.remote !== e.remote) return undefined;
  if (direction && ended.direction !== 'unknown' && ended.direction !== direction) return undefined;
  return ended;
}

/** A transfer that failed is over once the user carries on with the call. */
function resumed(call: CallState): Partial<CallState> {
  return call.transfer === 'failed' ? { transfer: undefined } : {};
}

const incomingCall: CallHandler = (d, e) => {
  const call = findCall(d.calls, e.ref, isRinging);
  // Known already: a copy, a late arrival, or a waiting call reported under the first call's variables.
  if (call) fill(d, call, e, 'incoming');
  else if (!endedCallFor(d, e, 'incoming')) addCall(d, newCall(d, e, 'incoming', 'ringing', false));
};

const outgoingCall: CallHandler = (d, e) => {
  const call = findCall(d.calls, e.ref, isDialing);
  if (call) fill(d, call, e, 'outgoing');
  else if (!endedCallFor(d, e, 'outgoing')) addCall(d, newCall(d, e, 'outgoing', 'dialing', false));
};

/** call_established and answer_new_incoming_call: the conversation is up. */
function answered(direction: 'incoming' | undefined, wanted: CallFilter): CallHandler {
  return (d, e) => {
    const call = findCall(d.calls, e.ref, wanted);
    if (call) {
      // Already answered: a copy or a late arrival, and a held call stays held.
      if (call.answeredAt !== null) fill(d, call, e, direction);
      else changeCall(d, call, { ...blanksFilled(call, e, direction), phase: 'talking', answeredAt: d.at });
      return;
    }
    const ended = endedCallFor(d, e, direction);
    if (!ended) {
      addCall(d, newCall(d, e, direction ?? e.direction, 'talking', true));
    } else if (isSupersededRinging(ended)) {
      reviveCall(d, ended, { phase: 'talking', answeredAt: d.at });
    } else if (ended.answeredAt === null) {
      // The answer arrived after the end (reordered): the call was answered after all.
      const unanswered = ended.outcome === 'missed' || ended.outcome === 'failed';
      amendEndedCall(d, ended, {
        answeredAt: Math.min(d.at, ended.endedAt ?? d.at),
        outcome: unanswered ? 'answered' : ended.outcome,
      });
    }
  };
}

/** missed_call, reject_incoming_call, forward_incoming_call: an incoming call ended unanswered. */
function unansweredEnd(outcome: CallOutcome): CallHandler {
  return (d, e) => {
    const call = findCall(d.calls, e.ref, isUnanswered);
    if (call) {
      // An answered call is not what this is about (a waiting call reported under the first call's id).
      if (call.answeredAt === null) endCall(d, fill(d, call, e, 'incoming'), outcome, e.incident);
      return;
    }
    const ended = endedCallFor(d, e, 'incoming');
    if (!ended) {
      // The phone fires only this incident when it forwards or refuses a call itself, and incoming_call
      // may have been lost: the call existed, so it is recorded.
      endCall(d, addCall(d, newCall(d, e, 'incoming', 'ringing', false)), outcome, e.incident);
    } else if (isSupersededRinging(ended)) {
      amendEndedCall(d, ended, { outcome, endedAt: d.at, endedBy: e.incident });
    }
  };
}

/** hold and unhold: only an answered conversation can be held, so these create the call if it is unknown. */
function holdState(phase: 'held' | 'talking', wanted: CallFilter): CallHandler {
  return (d, e) => {
    const call = findCall(d.calls, e.ref, wanted);
    if (call) {
      changeCall(d, call, { ...blanksFilled(call, e), ...resumed(call), phase, answeredAt: call.answeredAt ?? d.at });
    } else if (!endedCallFor(d, e)) {
      addCall(d, newCall(d, e, e.direction, phase, true));
    }
  };
}

function muteState(muted: boolean): CallHandler {
  return (d, e) => {
    d.phone.muted = muted;
    const call = findCall(d.calls, e.ref, isTalking);
    if (call && (call.muted !== muted || call.transfer === 'failed')) changeCall(d, call, { ...resumed(call), muted });
  };
}

const transferCall: CallHandler = (d, e) => {
  const call = findCall(d.calls, e.ref, isAnswered);
  if (call && (call.transfer === undefined || call.transfer === 'failed')) changeCall(d, call, { transfer: 'requested' });
};

/** The call a transfer incident is about: one being transferred, else an answered one (transfer_call lost). */
function transferredCall(d: Draft, e: CallEvent): CallState | undefined {
  return findCall(d.calls, e.ref, isTransferring) ?? findCall(d.calls, e.ref, isAnswered);
}

/** The kind of transfer is named once it started; a result that arrived first (reordered) is kept. */
const kindNamed = (call: CallState) => call.transfer === undefined || call.transfer === 'requested';

const blindTransfer: CallHandler = (d, e) => {
  const call = transferredCall(d, e);
  if (call && kindNamed(call)) changeCall(d, call, { transfer: 'blind' });
};

/**
 * Both legs (the held call and the consultation) go with an attended transfer and share its result, so a
 * failure already reported for one leg (reordered) holds for both.
 */
const attendedTransfer: CallHandler = (d, e) => {
  const legs = d.calls.filter(isAnswered);
  const call = findCall(d.calls, e.ref, isAnswered);
  if (call && !legs.includes(call)) legs.push(call);
  const transfer = legs.some((leg) => leg.transfer === 'failed') ? 'failed' : 'attended';
  for (const leg of legs) {
    if (kindNamed(leg) || (transfer === 'failed' && leg.transfer === 'attended')) changeCall(d, leg, { transfer });
  }
};

/** The call the transfer result is about, and the other leg of an attended transfer. */
function transferLegs(d: Draft, e: CallEvent): CallState[] {
  const call = transferredCall(d, e);
  const legs = d.calls.filter((c) => c.transfer === 'attended');
  if (call && !legs.includes(call)) legs.unshift(call);
  return legs;
}

const transferFinished: CallHandler = (d, e) => {
  for (const leg of transferLegs(d, e)) {
    endCall(d, changeCall(d, leg, { transfer: 'finished' }), 'transferred', e.incident);
  }
};

const transferFailed: CallHandler = (d, e) => {
  const legs = transferLegs(d, e);
  for (const leg of legs) changeCall(d, leg, { transfer: 'failed' });
  // The failure arrived after a leg's call_terminated (reordered), which took the leg as transferred.
  const ended = legs.length === 0 ? endedCallFor(d, e) : undefined;
  for (const leg of d.recent.filter((c) => c === ended || c.transfer === 'attended')) {
    if (leg.outcome === 'transferred' && leg.transfer !== 'finished') {
      amendEndedCall(d, leg, { transfer: 'failed', outcome: 'failed' });
    }
  }
};

const callTerminated: CallHandler = (d, e) => {
  // Without a matching active call this is a copy, a late arrival or a call never seen: nothing to close,
  // and too little known to record one.
  const call = findCall(d.calls, e.ref, anyCall);
  if (call) endCall(d, call, outcomeAtEnd(call), e.incident);
};

export const CALL_HANDLERS: ReadonlyMap<string, CallHandler> = new Map([
  ['incoming_call', incomingCall],
  ['outgoing_call', outgoingCall],
  ['call_established', answered(undefined, isUnanswered)],
  ['answer_new_incoming_call', answered('incoming', isRinging)],
  ['call_terminated', callTerminated],
  ['missed_call', unansweredEnd('missed')],
  ['reject_incoming_call', unansweredEnd('rejected')],
  ['forward_incoming_call', unansweredEnd('forwarded')],
  ['hold', holdState('held', isTalking)],
  ['unhold', holdState('talking', isHeld)],
  ['mute', muteState(true)],
  ['unmute', muteState(false)],
  ['transfer_call', transferCall],
  ['blind_transfer_call', blindTransfer],
  ['attended_transfer_call', attendedTransfer],
  ['transfer_finished', transferFinished],
  ['transfer_failed', transferFailed],
]);
