/**
 * What each of the 34 incidents does, by slug. Call incidents are in call-incidents.ts; the phone-wide ones
 * (device, account, feature, hook, busy) are here. A test checks this table covers the catalog exactly.
 */
import { type Draft, endAllCalls, endCall, endTimeWithin, outcomeAtEnd } from './draft.ts';
import { applyRegistration } from './accounts.ts';
import { CALL_HANDLERS, type CallEvent, type CallHandler } from './call-incidents.ts';

type Forward = 'always' | 'busy' | 'no_answer';

const nothing: CallHandler = () => {};

function setForward(kind: Forward, on: boolean): CallHandler {
  return (d) => {
    d.phone.forward = { ...d.phone.forward, [kind]: on };
  };
}

/**
 * A reboot drops every call and resets what belongs to a conversation; call handles start over. A call still
 * open was cut off somewhere between the phone's last sign of life and the reboot; it ends at that last
 * sign of life, since that is all we know (ending it at the reboot would book the phone's dead time as talk).
 */
function setupCompleted(d: Draft, e: CallEvent): void {
  for (const call of [...d.calls]) {
    endCall(d, call, outcomeAtEnd(call), e.incident, endTimeWithin(call, d.lastAlive, d.at), false);
  }
  d.recent = [];
  d.phone.busy = false;
  d.phone.offHook = false;
  d.phone.muted = false;
}

/** The phone says it is idle: whatever calls we still think are up ended (their call_terminated was lost). */
function busyToIdle(d: Draft, e: CallEvent): void {
  endAllCalls(d, e.incident);
  d.phone.busy = false;
}

export const INCIDENT_HANDLERS: ReadonlyMap<string, (d: Draft, e: CallEvent, vars: unknown) => void> = new Map<
  string,
  (d: Draft, e: CallEvent, vars: unknown) => void
>([
  ['setup_completed', setupCompleted],
  ['ip_change', nothing], // the new `$ip` is read like every event's
  ['registered', (d, _e, vars) => applyRegistration(d, vars, 'registered')],
  ['unregistered', (d, _e, vars) => applyRegistration(d, vars, 'unregistered')],
  ['register_failed', (d, _e, vars) => applyRegistration(d, vars, 'register_failed')],
  ['off_hook', (d) => void (d.phone.offHook = true)],
  ['on_hook', (d) => void (d.phone.offHook = false)],
  ['idle_to_busy', (d) => void (d.phone.busy = true)],
  ['busy_to_idle', busyToIdle],
  ['dnd_on', (d) => void (d.phone.dnd = true)],
  ['dnd_off', (d) => void (d.phone.dnd = false)],
  ['always_fwd_on', setForward('always', true)],
  ['always_fwd_off', setForward('always', false)],
  ['busy_fwd_on', setForward('busy', true)],
  ['busy_fwd_off', setForward('busy', false)],
  ['no_answer_fwd_on', setForward('no_answer', true)],
  ['no_answer_fwd_off', setForward('no_answer', false)],
  ...CALL_HANDLERS,
]);
