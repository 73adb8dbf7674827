/**
 * The receiver's live state of one phone, computed from its events by a pure reducer: no clocks, no I/O.
 * Time comes with each event (`receivedAt`) or as an argument.
 *
 * What each incident does:
 * - every event: `$ip`, `$model`, `$firmware` update the identity when non-empty (the request's source
 *   address stands in for `$ip` until the phone sends one); `lastSeen`, `lastEventId` advance. A non-empty
 *   `$display_local` becomes the display name of the account the event names (of the only one, when it
 *   names none).
 * - setup_completed: the phone rebooted; its calls end (outcome as for call_terminated), busy, off-hook and
 *   mute reset. ip_change: identity only.
 * - registered / unregistered / register_failed: the account named by `$active_url` (or `$active_user` @
 *   `$active_host`) as `user@host`; without a name, every known account. `registered` is true when any
 *   account is.
 * - dnd_on/off, always|busy|no_answer_fwd_on/off: the flag. off_hook / on_hook: `offHook` (presence ignores
 *   it: firmware reports idle with the handset still up after the far end hung up).
 * - idle_to_busy: busy. busy_to_idle: not busy, and every call still open ends (its call_terminated was lost
 *   or is late). A dialing, talking or held call also makes the phone busy, and the end of the last one makes
 *   it idle, since busy_to_idle may be lost too. A ringing call alone does not make the phone busy.
 * - incoming_call: a ringing incoming call. outgoing_call: a dialing outgoing call.
 * - call_established, answer_new_incoming_call: the call is talking and answered (created if unknown).
 * - hold / unhold: held / talking (created if unknown: only an answered call can be held).
 * - mute / unmute: the phone's and the talking call's `muted`; it resets when the last call ends.
 * - transfer_call, blind_transfer_call, attended_transfer_call (both legs): a transfer is in progress.
 *   transfer_finished: the call (and the other attended leg) ends `transferred`. transfer_failed: the
 *   transfer failed; if the call then ends without being resumed (hold, unhold, mute, unmute) it is `failed`,
 *   the caller was lost; once resumed it is an ordinary answered call again.
 * - missed_call / reject_incoming_call / forward_incoming_call: the unanswered incoming call ends `missed` /
 *   `rejected` / `forwarded`; recorded even when its incoming_call was never heard (forwarding by the phone
 *   fires nothing else).
 * - call_terminated: the call ends: `transferred` during a transfer, `failed` after a failed one, `answered`
 *   if it was answered, otherwise `missed` (incoming) or `failed` (outgoing). A call_terminated for no known
 *   call records nothing.
 * - unknown incidents: identity and `lastSeen` only.
 *
 * Presence: talking, dialing, held (by the calls, in that order); busy with no call up: dialing (or talking
 * when the only call is still ringing: its answer was lost); ringing; unregistered (`registered` false); dnd;
 * idle. `presenceAt` adds `offline` by time.
 *
 * Which call an event is about: `$call_id`; when empty, the same `$remote`, else the call in the phase the
 * incident applies to, else the only call; a call the phone gave no id gets `#<event id>`.
 *
 * The flows this is tested against are those of docs/vendors.md ("Incident order in common flows").
 *
 * Phones never retry, so requests get lost, arrive twice or out of order:
 * - an event whose id is not above `lastEventId` was applied already and changes nothing; neither does an
 *   event with the same content (incident and variables) as the one applied just before it, within
 *   DUPLICATE_WINDOW_MS (only `lastEventId` and `lastSeen` advance).
 * - an event about a call that ended within LATE_EVENT_WINDOW_MS is a copy or arrived late: it does not open
 *   a new call; a late answer turns the ended call into an answered one. A ringing call closed by
 *   busy_to_idle (call waiting) can still be answered, refused or missed for a few minutes.
 * - lost events: calls are created by whichever of their incidents arrives; a call whose end was lost is
 *   closed by busy_to_idle, by a reboot, or by `expireCalls` (unanswered calls after five minutes at most).
 *   A transfer_failed arriving after the call_terminated it preceded turns the `transferred` call `failed`.
 */
import type { CallState, PhoneEvent, PhoneState, Reduction } from './types.ts';
import { finish, keyOf, openDraft, type Draft } from './draft.ts';
import { INCIDENT_HANDLERS } from './incidents.ts';
import type { CallEvent } from './call-incidents.ts';
import { DUPLICATE_WINDOW_MS } from './policy.ts';
import { VAR, accountIdOf, directionOf, fingerprintOf, textVar } from './vars.ts';

export { expireCalls } from './expire.ts';
export { presenceAt, derivePresence } from './presence.ts';

export function initialPhoneState(mac: string, at: number): PhoneState {
  return {
    mac,
    ip: '',
    model: '',
    firmware: '',
    accounts: [],
    registered: null,
    dnd: false,
    forward: { always: false, busy: false, no_answer: false },
    muted: false,
    offHook: false,
    busy: false,
    calls: [],
    presence: 'idle',
    firstSeen: at,
    lastSeen: at,
    lastEventId: 0,
  };
}

/** Applies one event to a phone's state (`undefined`: the phone's first event). Never throws. */
export function reduce(state: PhoneState | undefined, event: PhoneEvent): Reduction {
  if (typeof event !== 'object' || event === null) return { state: state ?? initialPhoneState('', 0), changedCalls: [] };
  const at = Number.isFinite(event.receivedAt) ? event.receivedAt : (state?.lastSeen ?? 0);
  const id = Number.isFinite(event.id) ? event.id : undefined;
  if (state && id !== undefined && id <= state.lastEventId) return { state, changedCalls: [] };
  const current = state ?? initialPhoneState(typeof event.mac === 'string' ? event.mac : '', at);
  const lastEventId = id ?? current.lastEventId;
  const lastSeen = Math.max(current.lastSeen, at);
  const fingerprint = fingerprintOf(event.incident, event.vars);

  const echo = current.lastFingerprint;
  if (state && echo && echo.fingerprint === fingerprint && at >= echo.at && at - echo.at <= DUPLICATE_WINDOW_MS) {
    return { state: { ...current, lastEventId, lastSeen }, changedCalls: [] };
  }

  const d = openDraft(current, at, lastEventId);
  d.phone.lastEventId = lastEventId;
  d.phone.lastSeen = lastSeen;
  d.phone.firstSeen = Math.min(current.firstSeen, at);
  d.phone.lastFingerprint = { fingerprint, at };
  applyIdentity(d, event);
  const incident = typeof event.incident === 'string' ? event.incident : '';
  INCIDENT_HANDLERS.get(incident)?.(d, callEventOf(incident, event.vars), event.vars);
  return finish(d);
}

function applyIdentity(d: Draft, event: PhoneEvent): void {
  const ip = textVar(event.vars, VAR.ip);
  const model = textVar(event.vars, VAR.model);
  const firmware = textVar(event.vars, VAR.firmware);
  if (ip !== '') d.phone.ip = ip;
  else if (d.phone.ip === '' && typeof event.sourceIp === 'string') d.phone.ip = event.sourceIp;
  if (model !== '') d.phone.model = model;
  if (firmware !== '') d.phone.firmware = firmware;
  const displayName = textVar(event.vars, VAR.displayLocal);
  if (displayName !== '' && d.phone.accounts.length > 0) {
    const id = accountIdOf(event.vars);
    const named = (a: { id: string }) => (id === '' ? d.phone.accounts.length === 1 : a.id === id);
    if (d.phone.accounts.some((a) => named(a) && a.displayName !== displayName)) {
      d.phone.accounts = d.phone.accounts.map((a) => (named(a) ? { ...a, displayName } : a));
    }
  }
}

function callEventOf(incident: string, vars: unknown): CallEvent {
  const remote = textVar(vars, VAR.remote);
  return {
    incident,
    ref: { callId: textVar(vars, VAR.callId), remote },
    remote,
    displayRemote: textVar(vars, VAR.displayRemote),
    local: textVar(vars, VAR.local),
    direction: directionOf(vars),
  };
}

/**
 * Applies events in order. `calls` is every call they created, changed or ended, in its latest version,
 * in order of first appearance.
 */
export function replay(
  events: Iterable<PhoneEvent>,
  initial?: PhoneState,
): { state: PhoneState | undefined; calls: CallState[] } {
  let state = initial;
  const calls = new Map<string, CallState>();
  for (const event of events) {
    const reduction = reduce(state, event);
    state = reduction.state;
    for (const call of reduction.changedCalls) calls.set(keyOf(call), call);
  }
  return { state, calls: [...calls.values()] };
}
