/**
 * Presence: the one word the board shows for a phone. Calls come first (a phone in a call is in that call,
 * whatever its registration says), then registration, then DND.
 */
import type { CallState, PhoneState, Presence } from './types.ts';

type PresenceInputs = Pick<PhoneState, 'calls' | 'busy' | 'registered' | 'dnd'>;

const has = (calls: readonly CallState[], phase: CallState['phase']) => calls.some((c) => c.phase === phase);

export function derivePresence(state: PresenceInputs): Presence {
  const { calls } = state;
  if (has(calls, 'talking')) return 'talking';
  if (has(calls, 'dialing')) return 'dialing';
  if (has(calls, 'held')) return 'held';
  // Busy without a call in progress: either the user is entering a number (off_hook, idle_to_busy, and no
  // outgoing_call yet), or the phone went busy on a ringing call whose answer we did not hear about.
  if (state.busy) return has(calls, 'ringing') ? 'talking' : 'dialing';
  if (has(calls, 'ringing')) return 'ringing';
  if (state.registered === false) return 'unregistered';
  if (state.dnd) return 'dnd';
  return 'idle';
}

/** `offline` once nothing was heard from the phone for `offlineAfterMs`, otherwise the reduced presence. */
export function presenceAt(state: PhoneState, now: number, offlineAfterMs: number): Presence {
  return now - state.lastSeen >= offlineAfterMs ? 'offline' : state.presence;
}
