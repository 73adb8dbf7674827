/**
 * The incidents the call engine fires, each checked against the catalog when this module loads: a slug the
 * catalog does not know fails at start-up, not on the wire. The catalog stays the one source of slugs; this
 * only names the ones the engine's rules refer to.
 */
import { getIncident } from '../../core/catalog.ts';

const ref = (slug: string): string => getIncident(slug).slug;

export const I = Object.freeze({
  setupCompleted: ref('setup_completed'),
  registered: ref('registered'),
  unregistered: ref('unregistered'),
  registerFailed: ref('register_failed'),
  offHook: ref('off_hook'),
  onHook: ref('on_hook'),
  incomingCall: ref('incoming_call'),
  outgoingCall: ref('outgoing_call'),
  established: ref('call_established'),
  terminated: ref('call_terminated'),
  dndOn: ref('dnd_on'),
  dndOff: ref('dnd_off'),
  transferCall: ref('transfer_call'),
  blindTransfer: ref('blind_transfer_call'),
  attendedTransfer: ref('attended_transfer_call'),
  hold: ref('hold'),
  unhold: ref('unhold'),
  mute: ref('mute'),
  unmute: ref('unmute'),
  missedCall: ref('missed_call'),
  ipChange: ref('ip_change'),
  forwardIncoming: ref('forward_incoming_call'),
  rejectIncoming: ref('reject_incoming_call'),
  answerNew: ref('answer_new_incoming_call'),
  transferFinished: ref('transfer_finished'),
  transferFailed: ref('transfer_failed'),
  idleToBusy: ref('idle_to_busy'),
  busyToIdle: ref('busy_to_idle'),
});

/** The on/off incident pair of each forward kind. */
export const FORWARD_INCIDENTS = Object.freeze({
  always: { on: ref('always_fwd_on'), off: ref('always_fwd_off') },
  busy: { on: ref('busy_fwd_on'), off: ref('busy_fwd_off') },
  no_answer: { on: ref('no_answer_fwd_on'), off: ref('no_answer_fwd_off') },
});
