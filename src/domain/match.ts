/**
 * Which call an event is about. Phones send `$call_id` (an opaque per-phone handle), but it may be empty or a
 * literal placeholder, and when several calls exist only the first one is reported. So: the call id when there
 * is one; otherwise the remote party; otherwise the call in the phase the incident applies to; otherwise the
 * only call.
 */
import type { CallState } from './types.ts';

export type CallFilter = (call: CallState) => boolean;

export const anyCall: CallFilter = () => true;
export const isRinging: CallFilter = (c) => c.phase === 'ringing';
export const isDialing: CallFilter = (c) => c.phase === 'dialing';
export const isTalking: CallFilter = (c) => c.phase === 'talking';
export const isHeld: CallFilter = (c) => c.phase === 'held';
export const isAnswered: CallFilter = (c) => c.answeredAt !== null;
export const isUnanswered: CallFilter = (c) => c.answeredAt === null;
export const isTransferring: CallFilter = (c) => c.transfer !== undefined && c.transfer !== 'failed';

/** Ids the reducer makes up for calls the phone gave no id for start with this. */
const SYNTHETIC_PREFIX = '#';

export function isSyntheticId(callId: string): boolean {
  return callId.startsWith(SYNTHETIC_PREFIX);
}

/** An id for a call the phone sent no `$call_id` for, unique among `taken`. */
export function syntheticId(eventId: number, taken: readonly CallState[]): string {
  const base = `${SYNTHETIC_PREFIX}${eventId}`;
  let id = base;
  for (let n = 2; taken.some((c) => c.callId === id); n++) id = `${base}.${n}`;
  return id;
}

export interface CallReference {
  /** `$call_id`, '' when the phone sent none. */
  readonly callId: string;
  /** `$remote`, '' when the phone sent none. */
  readonly remote: string;
}

/**
 * The call among `calls` that `ref` names, preferring calls `wanted` accepts where the reference is
 * ambiguous. Undefined when the reference names a call that is not among them.
 */
export function findCall(calls: readonly CallState[], ref: CallReference, wanted: CallFilter): CallState | undefined {
  if (ref.callId !== '') {
    const exact = calls.find((c) => c.callId === ref.callId);
    if (exact) return exact;
    // A call first seen without an id (placeholder, lost variable) keeps its made-up id; a later event that
    // does carry an id still belongs to it when the remote party is the same.
    if (ref.remote === '') return undefined;
    return calls.find((c) => isSyntheticId(c.callId) && c.remote === ref.remote);
  }
  if (ref.remote !== '') {
    const same = calls.filter((c) => c.remote === ref.remote);
    if (same.length > 0) return same.find(wanted) ?? same[0];
    // A call we know without its remote (created by an event that lacked it) may be this one.
    const blank = calls.filter((c) => c.remote === '');
    return blank.find(wanted) ?? blank[0];
  }
  return calls.find(wanted) ?? (calls.length === 1 ? calls[0] : undefined);
}
