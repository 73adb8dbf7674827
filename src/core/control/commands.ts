/**
 * The remote-control ("Action URI") vocabulary both sides share: the semantic commands a server sends, what a
 * command request must look like, and the key presses a phone understands. No vendor names here: how each
 * vendor spells a command is its dialect (`dialects.ts`).
 */

export const CONTROL_COMMANDS = ['dial', 'answer', 'hangup', 'hold', 'unhold', 'dnd_on', 'dnd_off', 'mute', 'reboot', 'keys'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

/** Where a command stands: `sent` to the phone, `accepted` by it, `confirmed` by its Action URL, or `failed`. */
export const COMMAND_STATUSES = ['sent', 'accepted', 'confirmed', 'failed'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export function isControlCommand(text: string): text is ControlCommand {
  return (CONTROL_COMMANDS as readonly string[]).includes(text);
}

/** A command as a client asks for it: `{"command": "dial", "number": "2001"}`, `{"command": "keys", "keys": "OK;F_HOLD"}`. */
export interface CommandRequest {
  readonly command: ControlCommand;
  /** dial only. */
  readonly number?: string;
  /** keys only: key names as the phone's vendor spells them. */
  readonly keys?: readonly string[];
}

/** What a dialled number may contain: what a keypad or a SIP user part carries, nothing that could break a URL. */
export const DIAL_NUMBER = /^[0-9A-Za-z*#+._@-]{1,64}$/;
/** The longest number `dial` takes (the bound in DIAL_NUMBER). */
export const MAX_DIAL_LENGTH = 64;
/** A key name: letters, digits and the few marks vendors use (`F_HOLD`, `ASW:3`, `number=2001`, `*`, `#`). */
const KEY = /^[0-9A-Za-z_*#:=.+@-]{1,40}$/;
export const MAX_KEYS = 32;

/** Reads a command request from JSON; unknown fields are refused so a typo (`numbr`) does not pass silently. */
export function parseCommandRequest(input: unknown): CommandRequest | { error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'expected {"command": "dial", "number": "2001"}' };
  const obj = input as Record<string, unknown>;
  const command = obj.command;
  if (typeof command !== 'string' || !isControlCommand(command)) {
    return { error: `"command" must be one of ${CONTROL_COMMANDS.join(', ')}` };
  }
  const allowed = command === 'dial' ? ['command', 'number'] : command === 'keys' ? ['command', 'keys'] : ['command'];
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) return { error: `${command}: unexpected field "${key}"` };
  if (command === 'dial') {
    const number = obj.number;
    if (typeof number !== 'string' || !DIAL_NUMBER.test(number)) {
      return { error: 'dial: "number" must be 1 to 64 characters of digits, letters, * # + . _ @ -' };
    }
    return { command, number };
  }
  if (command === 'keys') {
    const keys = parseKeys(obj.keys);
    return 'error' in keys ? keys : { command, keys: keys.keys };
  }
  return { command };
}

/** Keys as `"OK;F_HOLD"` or `["OK", "F_HOLD"]`. */
export function parseKeys(input: unknown): { keys: string[] } | { error: string } {
  const list = typeof input === 'string' ? input.split(';').map((k) => k.trim()).filter((k) => k !== '') : input;
  if (!Array.isArray(list) || list.length === 0) return { error: 'keys: "keys" must be key names, e.g. "OK;F_HOLD" or ["OK", "F_HOLD"]' };
  if (list.length > MAX_KEYS) return { error: `keys: at most ${MAX_KEYS} keys per command` };
  for (const k of list) {
    if (typeof k !== 'string' || !KEY.test(k)) return { error: `keys: "${String(k).slice(0, 40)}" is not a key name (letters, digits, _ * # : = . + @ -)` };
  }
  return { keys: list as string[] };
}

/**
 * What a key press or a control request does on the phone. `ok` is the phone's OK/ENTER key: it answers a
 * ringing call, or dials the digits typed so far. Toggles act on the phone's current state.
 */
export type PhoneOperation =
  | { op: 'dial'; number: string }
  | { op: 'digit'; digit: string }
  | { op: 'ok' }
  | { op: 'answer' }
  | { op: 'hangup' }
  | { op: 'hold' }
  | { op: 'unhold' }
  | { op: 'hold_toggle' }
  | { op: 'dnd'; on: boolean }
  | { op: 'dnd_toggle' }
  | { op: 'mute_toggle' }
  | { op: 'reboot' }
  /** A key the phone knows that changes nothing a server can see (volume, arrows, speaker with no call). */
  | { op: 'none' };
