/**
 * Each vendor's remote-control dialect, as data: where its phones take commands, how each semantic command
 * is spelled, what each key does, how the phone authenticates the server and how it answers. The server
 * encodes commands from this table (`encode.ts`) and the virtual phone decodes them with the same table
 * (`decode.ts`), so the two sides cannot drift apart. A vendor is a table here, never an `if` elsewhere.
 *
 * Sources: vendors' admin guides where they document it; spellings marked "unverified" below come from
 * third-party integrations only (they are what those tools send, not what a vendor guide promises).
 */
import type { VendorId } from '../vendors/types.ts';
import type { ControlCommand, PhoneOperation } from './commands.ts';

/** The endpoint that takes key presses: `path?param=K1<sep>K2`. */
export interface KeyEndpoint {
  readonly path: string;
  readonly param: string;
  readonly separator: string;
  /**
   * Older firmware generations' paths for the same endpoint, newest first. A phone that answers 404 on one
   * path is asked once more on the next (the receiver remembers which path each phone took); current
   * firmware serves these too, older firmware only these.
   */
  readonly olderPaths?: readonly string[];
}

/**
 * How one semantic command goes out. `keys`: key presses through the key endpoint; `{number}` stands for the
 * number, `{digits}` for one key press per character of it. `request`: its own path and parameters
 * (`{number}`, `{account}`, `{line}` filled in), and what the phone does on receiving it (a dial's number
 * is the `{number}` parameter).
 */
export type CommandStep =
  | { readonly keys: readonly string[] }
  | { readonly path: string; readonly params: readonly (readonly [string, string])[]; readonly means: PhoneOperation };

export interface ControlDialect {
  readonly vendor: VendorId;
  readonly label: string;
  readonly keyEndpoint: KeyEndpoint;
  /**
   * `basic`: HTTP Basic with the web admin account (or HTTP Digest when the phone's challenge asks for it).
   * `passcode`: the admin password as `?passcode=`.
   */
  readonly auth: 'basic' | 'passcode';
  /** `text`: status line decides (200 = done). `json`: `{"response":"success"|"error","body":…}`. */
  readonly answers: 'text' | 'json';
  /** Semantic commands the vendor has (`keys` always goes through the key endpoint). */
  readonly commands: { readonly [C in Exclude<ControlCommand, 'keys'>]?: CommandStep };
  /** What each key name does on the phone (digits, `*` and `#` are digit keys on every vendor). */
  readonly keys: Readonly<Record<string, PhoneOperation>>;
  /** Keys that carry an argument after a prefix (`number=2001`, `ASW:3`): the prefix and what it does. */
  readonly keyPrefixes?: readonly (readonly [string, PhoneOperation['op']])[];
  /** The phone settings an admin changes so this server may control it (shown in failure reasons). */
  readonly settings: { readonly allow: string; readonly prompt?: string; readonly enable?: string };
}

/** A dial request: the number comes from its `{number}` parameter. */
const DIAL: PhoneOperation = { op: 'dial', number: '{number}' };
const none: PhoneOperation = { op: 'none' };
const ok: PhoneOperation = { op: 'ok' };
const hangup: PhoneOperation = { op: 'hangup' };
const holdToggle: PhoneOperation = { op: 'hold_toggle' };
const muteToggle: PhoneOperation = { op: 'mute_toggle' };
const dndToggle: PhoneOperation = { op: 'dnd_toggle' };

/** Keys every vendor has that change nothing a server sees. */
const QUIET_KEYS = ['VOLUME_UP', 'VOLUME_DOWN', 'UP', 'DOWN', 'LEFT', 'RIGHT', 'SPEAKER', 'HEADSET'];
const quiet = (extra: readonly string[] = []) => Object.fromEntries([...QUIET_KEYS, ...extra].map((k) => [k, none]));

const yealink: ControlDialect = {
  vendor: 'yealink',
  label: 'Yealink',
  keyEndpoint: { path: '/servlet', param: 'key', separator: ';', olderPaths: ['/cgi-bin/ConfigManApp.com', '/cgi-bin/cgiServer.exx'] },
  auth: 'basic',
  answers: 'text',
  commands: {
    // `number=<n>` is the widely used dial form (unverified); the phone dials on its first registered account.
    dial: { keys: ['number={number}'] },
    answer: { keys: ['OK'] },
    hangup: { keys: ['CALLEND'] },
    hold: { keys: ['F_HOLD'] },
    unhold: { keys: ['F_HOLD'] },
    // DNDOn / DNDOff and Reboot: unverified spellings.
    dnd_on: { keys: ['DNDOn'] },
    dnd_off: { keys: ['DNDOff'] },
    mute: { keys: ['MUTE'] },
    reboot: { keys: ['Reboot'] },
  },
  keys: {
    ...quiet(['F1', 'F2', 'F3', 'F4', 'F_TRANSFER', 'F_CONFERENCE']),
    OK: ok,
    ENTER: ok,
    CALLEND: hangup,
    F_HOLD: holdToggle,
    HOLD: { op: 'hold' },
    MUTE: muteToggle,
    DNDOn: { op: 'dnd', on: true },
    DNDOff: { op: 'dnd', on: false },
    Reboot: { op: 'reboot' },
  },
  keyPrefixes: [['number=', 'dial'], ['ASW:', 'answer'], ['CANCEL:', 'hangup'], ['HOLD:', 'hold'], ['UNHOLD:', 'unhold']],
  settings: { allow: 'features.action_uri_limit_ip', prompt: 'features.show_action_uri_option', enable: 'features.action_uri.enable' },
};

const snom: ControlDialect = {
  vendor: 'snom',
  label: 'Snom',
  keyEndpoint: { path: '/command.htm', param: 'key', separator: ';' },
  auth: 'basic',
  answers: 'text',
  commands: {
    dial: { path: '/command.htm', params: [['number', '{number}']], means: DIAL },
    answer: { keys: ['ENTER'] },
    hangup: { keys: ['CANCEL'] },
    hold: { keys: ['F_HOLD'] },
    unhold: { keys: ['F_HOLD'] },
    dnd_on: { keys: ['DND'] },
    dnd_off: { keys: ['DND'] },
    // MUTE: unverified key name.
    mute: { keys: ['MUTE'] },
    reboot: { path: '/advanced_update.htm', params: [['reboot', 'Reboot']], means: { op: 'reboot' } },
  },
  keys: {
    ...quiet(['OFFHOOK', 'ONHOOK', 'TRANSFER', 'REDIAL']),
    ENTER: ok,
    CANCEL: hangup,
    F_HOLD: holdToggle,
    DND: dndToggle,
    MUTE: muteToggle,
  },
  settings: { allow: 'web admin account only (Snom has no documented allowlist)' },
};

const fanvil: ControlDialect = {
  vendor: 'fanvil',
  label: 'Fanvil',
  keyEndpoint: { path: '/cgi-bin/ConfigManApp.com', param: 'key', separator: ';' },
  auth: 'basic',
  answers: 'text',
  // Fanvil key names come from third-party integrations (unverified); DND is a toggle key.
  commands: {
    dial: { keys: ['SPEAKER', '{digits}', 'ENTER'] },
    answer: { keys: ['OK'] },
    hangup: { keys: ['RELEASE'] },
    hold: { keys: ['F_HOLD'] },
    unhold: { keys: ['F_HOLD'] },
    dnd_on: { keys: ['DND'] },
    dnd_off: { keys: ['DND'] },
    mute: { keys: ['F_MUTE'] },
  },
  keys: {
    ...quiet(['F_TRANSFER', 'RD']),
    OK: ok,
    ENTER: ok,
    RELEASE: hangup,
    F_HOLD: holdToggle,
    F_MUTE: muteToggle,
    DND: dndToggle,
  },
  settings: { allow: 'Active URI Limit IP (web page: Phone settings > Action URL)' },
};

const grandstream: ControlDialect = {
  vendor: 'grandstream',
  label: 'Grandstream',
  // send_key's separator and the DND/MUTE key names are unverified.
  keyEndpoint: { path: '/cgi-bin/api-send_key', param: 'keys', separator: ':' },
  auth: 'passcode',
  answers: 'json',
  commands: {
    dial: { path: '/cgi-bin/api-make_call', params: [['phonenumber', '{number}'], ['account', '{account}']], means: DIAL },
    answer: { path: '/cgi-bin/api-phone_operation', params: [['cmd', 'acceptcall']], means: { op: 'answer' } },
    hangup: { path: '/cgi-bin/api-phone_operation', params: [['cmd', 'endcall']], means: { op: 'hangup' } },
    // holdcall is the hold key: it holds a call in talk and resumes a held one.
    hold: { path: '/cgi-bin/api-phone_operation', params: [['cmd', 'holdcall']], means: { op: 'hold_toggle' } },
    unhold: { path: '/cgi-bin/api-phone_operation', params: [['cmd', 'holdcall']], means: { op: 'hold_toggle' } },
    dnd_on: { keys: ['DND'] },
    dnd_off: { keys: ['DND'] },
    mute: { keys: ['MUTE'] },
    reboot: { path: '/cgi-bin/api-sys_operation', params: [['request', 'REBOOT']], means: { op: 'reboot' } },
  },
  keys: {
    ...quiet(['SEND', 'CONF', 'TRANSFER', 'F_TRANSFER', 'F_CONFERENCE']),
    OK: ok,
    ENTER: ok,
    DND: dndToggle,
    MUTE: muteToggle,
    HOLD: holdToggle,
    // The key names of the `keys` examples (`F_HOLD`, `F_TRANSFER`), which integrations send to Grandstream
    // phones as well (unverified): a receiver that sends `keys F_HOLD:OK` gets the key pressed, not a 400.
    F_HOLD: holdToggle,
  },
  settings: {
    allow: 'Action URI Allowed IP List',
    prompt: 'Remote Control Pop up Window Support',
    enable: 'Action URI Support',
  },
};

const akuvox: ControlDialect = {
  vendor: 'akuvox',
  label: 'Akuvox',
  keyEndpoint: { path: '/fcgi/do', param: 'keydown', separator: ';' },
  auth: 'basic',
  answers: 'text',
  commands: {
    dial: { path: '/fcgi/do', params: [['action', 'MakeCall'], ['number', '{number}'], ['line', '{line}']], means: DIAL },
    answer: { keys: ['OK'] },
    hangup: { path: '/fcgi/do', params: [['action', 'CallEnd']], means: { op: 'hangup' } },
    hold: { path: '/fcgi/do', params: [['action', 'Hold']], means: { op: 'hold' } },
    unhold: { path: '/fcgi/do', params: [['action', 'UnHold']], means: { op: 'unhold' } },
    dnd_on: { path: '/fcgi/do', params: [['action', 'DNDOn']], means: { op: 'dnd', on: true } },
    dnd_off: { path: '/fcgi/do', params: [['action', 'DNDOff']], means: { op: 'dnd', on: false } },
    mute: { keys: ['Mute'] },
    reboot: { path: '/fcgi/do', params: [['action', 'Reboot']], means: { op: 'reboot' } },
  },
  keys: {
    ...quiet(),
    OK: ok,
    Cancel: hangup,
    Mute: muteToggle,
  },
  settings: { allow: 'Allowed Access IP List' },
};

export const CONTROL_DIALECTS: ReadonlyMap<VendorId, ControlDialect> = new Map(
  [yealink, snom, fanvil, grandstream, akuvox].map((d) => [d.vendor, d]),
);

export function controlDialect(vendor: VendorId): ControlDialect {
  const d = CONTROL_DIALECTS.get(vendor);
  if (!d) throw new Error(`no remote-control dialect for vendor "${vendor}"`);
  return d;
}

/**
 * The paths to try for a request, in order of firmware generation: the key endpoint's path and then its
 * older ones; any other request has just its own path.
 */
export function firmwarePaths(vendor: VendorId, path: string): readonly string[] {
  const ke = controlDialect(vendor).keyEndpoint;
  return path === ke.path && ke.olderPaths ? [ke.path, ...ke.olderPaths] : [path];
}

/** Commands a vendor's phones take (`keys` always). */
export function supportedCommands(vendor: VendorId): ControlCommand[] {
  const d = controlDialect(vendor);
  return [...(Object.keys(d.commands) as ControlCommand[]), 'keys'];
}
