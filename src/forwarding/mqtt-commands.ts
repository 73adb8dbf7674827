/**
 * Remote control over MQTT: what a message on `<prefix>/<mac>/command/<command>` asks for. Pure: topic,
 * payload and retain flag in; a command request for the control service, or a one-line reason, out.
 *
 *   <prefix>/<mac>/command/dial      payload: the number (`2001`)
 *   <prefix>/<mac>/command/dnd       payload: `ON` or `OFF` (Home Assistant's switch)
 *   <prefix>/<mac>/command/<c>       c = answer, hangup, hold, unhold, mute, reboot, dnd_on, dnd_off: any
 *                                    payload (Home Assistant's button sends `PRESS`)
 *   <prefix>/<mac>/command/keys      payload: key names, `OK;F_HOLD`
 *   <prefix>/<mac>/command/result    published by the receiver (never read as a command)
 *
 * The MAC may be spelt any common way (`00:15:65:AA:BB:CC`, `001565aabbcc`, …); results go to the canonical
 * spelling. Requests are checked by the same parser the REST API uses (core/control), so both accept the
 * same numbers and keys.
 */
import { CONTROL_COMMANDS, parseCommandRequest, type CommandRequest, type ControlCommand } from '../core/control/index.ts';
import { normalizeMac } from '../core/mac.ts';

/** The topic commands are read from (one MQTT subscription). */
export const commandFilter = (prefix: string) => `${prefix}/+/command/+`;
/** Where a command's progress is published (not retained). */
export const commandResultTopic = (prefix: string, mac: string) => `${prefix}/${mac}/command/result`;
/** The command topic for one command name (Home Assistant's entities publish here). */
export const commandTopic = (prefix: string, mac: string, name: CommandTopicName) => `${prefix}/${mac}/command/${name}`;

/** Topic names: the semantic commands, plus `dnd` taking ON/OFF. */
export const COMMAND_TOPIC_NAMES = [...CONTROL_COMMANDS, 'dnd'] as const;
export type CommandTopicName = (typeof COMMAND_TOPIC_NAMES)[number];

/** A payload longer than this is refused unread: a number is at most 64 characters, keys at most 32 names. */
export const MAX_COMMAND_PAYLOAD = 1024;

/** Why a message was refused: a bounded set, so it can label a metric. */
export type InvalidKind = 'bad_mac' | 'unknown_command' | 'bad_payload' | 'oversized' | 'retained';

export type CommandMessage =
  | { kind: 'command'; mac: string; request: CommandRequest }
  | { kind: 'invalid'; why: InvalidKind; reason: string; mac?: string; command?: string }
  /** Not for us: the result topic (our own messages) or a topic outside the layout. */
  | { kind: 'ignore' };

/** Reads one message received on the command filter. */
export function readCommandMessage(prefix: string, topic: string, payload: Buffer, retained: boolean): CommandMessage {
  if (!topic.startsWith(`${prefix}/`)) return { kind: 'ignore' };
  const levels = topic.slice(prefix.length + 1).split('/');
  if (levels.length !== 3 || levels[1] !== 'command') return { kind: 'ignore' };
  const [macText, , name] = levels;
  if (name === 'result') return { kind: 'ignore' };
  const mac = normalizeMac(macText);
  const shown = macText.slice(0, 40);
  if (!mac) return { kind: 'invalid', why: 'bad_mac', reason: `"${shown}" in ${prefix}/<mac>/command/${name.slice(0, 20)} is not a MAC address` };
  const command = name.slice(0, 40);
  if (!(COMMAND_TOPIC_NAMES as readonly string[]).includes(name)) {
    return { kind: 'invalid', why: 'unknown_command', mac, command, reason: `unknown command "${command}": one of ${COMMAND_TOPIC_NAMES.join(', ')}` };
  }
  // The broker flags a message as retained only when it replays a stored one to a new subscription (live
  // subscribers get it unflagged, MQTT 3.1.1 3.3.1.3). Such a command was published in the past: running it
  // would repeat it after every reconnect of the receiver.
  if (retained) {
    return { kind: 'invalid', why: 'retained', mac, command, reason: 'a retained command replayed by the broker is not run again: publish commands with retain off, and clear this one (an empty retained message)' };
  }
  // An empty message is how a retained one is cleared (live subscribers get it too): never a command, or
  // clearing a retained "answer" would answer a call. Home Assistant's buttons send `PRESS`.
  if (payload.length === 0) return { kind: 'ignore' };
  if (payload.length > MAX_COMMAND_PAYLOAD) {
    return { kind: 'invalid', why: 'oversized', mac, command, reason: `payload of ${payload.length} bytes; a command takes at most ${MAX_COMMAND_PAYLOAD}` };
  }
  const text = payload.toString('utf8').trim();
  const request = requestOf(name as CommandTopicName, text);
  if ('error' in request) return { kind: 'invalid', why: 'bad_payload', mac, command, reason: request.error };
  return { kind: 'command', mac, request };
}

function requestOf(name: CommandTopicName, text: string): CommandRequest | { error: string } {
  switch (name) {
    case 'dial':
      return parseCommandRequest({ command: 'dial', number: text });
    case 'keys':
      return parseCommandRequest({ command: 'keys', keys: text });
    case 'dnd': {
      const v = text.toUpperCase();
      if (v === 'ON') return { command: 'dnd_on' };
      if (v === 'OFF') return { command: 'dnd_off' };
      return { error: `dnd: payload "${text.slice(0, 20)}" must be ON or OFF` };
    }
    default:
      return { command: name satisfies ControlCommand };
  }
}
