/**
 * When is a command confirmed? When the phone's own Action URL reports its effect. A pure function of the
 * command and one event the phone sent after the command went out; the server feeds it every event of that
 * phone until one confirms or time runs out.
 */
import type { CommandRequest, ControlCommand } from './commands.ts';

/** An event as the receiver stored it: incident slug and canonical variables. */
export interface ObservedEvent {
  readonly incident: string;
  readonly vars: Readonly<Record<string, string>>;
}

/** The incidents that show each command took effect (keys: none; a raw key press has no known effect). */
export const CONFIRMING_INCIDENTS: Readonly<Record<ControlCommand, readonly string[]>> = {
  dial: ['outgoing_call'],
  answer: ['call_established', 'answer_new_incoming_call'],
  hangup: ['call_terminated'],
  hold: ['hold'],
  unhold: ['unhold'],
  dnd_on: ['dnd_on'],
  dnd_off: ['dnd_off'],
  mute: ['mute'],
  reboot: ['setup_completed'],
  keys: [],
};

/** `sip:2001@pbx` / `2001@pbx` / `2001` -> `2001`. */
function userPart(uri: string): string {
  const bare = uri.replace(/^sips?:/i, '');
  const at = bare.indexOf('@');
  return at === -1 ? bare : bare.slice(0, at);
}

export function confirms(cmd: CommandRequest, event: ObservedEvent): boolean {
  if (!CONFIRMING_INCIDENTS[cmd.command].includes(event.incident)) return false;
  if (cmd.command !== 'dial') return true;
  const { called_number: called, remote } = event.vars;
  // A URL that carries neither variable cannot say which number was called; the outgoing call is the effect.
  if (!called && !remote) return true;
  return called === cmd.number || (remote !== undefined && (remote === cmd.number || userPart(remote) === cmd.number));
}

/** Can this command ever be confirmed? (`keys` cannot: its final status is `accepted`.) */
export function isConfirmable(command: ControlCommand): boolean {
  return CONFIRMING_INCIDENTS[command].length > 0;
}

/** What the phone's state (as its events showed it) says about a command before it is sent. */
export interface KnownPhoneState {
  readonly dnd: boolean;
  readonly muted: boolean;
  readonly calls: readonly { readonly phase: string }[];
}

/**
 * A reason not to send, when the phone's last reported state makes the command pointless: several vendors
 * only have toggle keys (DND, hold, mute), so sending "DND on" to a phone that is already on would turn it
 * off. Undefined: send it.
 */
export function pointlessBecause(cmd: CommandRequest, state: KnownPhoneState | undefined): string | undefined {
  if (!state) return undefined;
  const has = (phase: string) => state.calls.some((c) => c.phase === phase);
  switch (cmd.command) {
    case 'dnd_on':
      return state.dnd ? 'DND is already on (as the phone last reported); nothing sent' : undefined;
    case 'dnd_off':
      return state.dnd ? undefined : 'DND is already off (as the phone last reported); nothing sent';
    case 'hold':
      return has('talking') ? undefined : 'the phone reported no call in talk to hold; nothing sent';
    case 'unhold':
      return has('held') ? undefined : 'the phone reported no held call to resume; nothing sent';
    case 'mute':
      return state.muted ? 'the call is already muted (as the phone last reported); nothing sent' : undefined;
    default:
      return undefined;
  }
}
