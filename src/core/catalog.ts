/**
 * The incident and variable catalog: the seed document's two tables, as data.
 *
 * Everything else (the phone's call engine, the template linter, the request decoder, the vendor config
 * codecs, the server's reducer and the CLI's `events`/`vars`) reads this file; nothing else spells an
 * incident or a vendor key. docs/vendors.md ("The 34 incidents", "Variables") states the same facts, with
 * where they come from and which are unverified; test/docs checks the two agree.
 */

/** Which group of variables an incident fills (see VARIABLE_SCOPES_BY_INCIDENT_KIND). */
export type IncidentKind = 'device' | 'account' | 'feature' | 'hook' | 'call';

/** The vendors whose config files we read and write. */
export const VENDORS = ['yealink', 'akuvox', 'fanvil', 'snom', 'grandstream'] as const;
export type Vendor = (typeof VENDORS)[number];

export interface VendorKeys {
  /** Yealink (and Yealink-family) key: always `action_url.<slug>`. */
  yealink?: string;
  /** Akuvox desk phone key: the same `action_url.<slug>`. */
  akuvox?: string;
  /** Fanvil `<CTI CONFIG MODULE>` key (without the padding and colon). */
  fanvil?: string;
  /** Snom phone setting name. */
  snom?: string;
  /** Grandstream P-code (config version 1). */
  grandstream?: string;
  /** Grandstream alias (config version 2). */
  grandstreamAlias?: string;
}

export interface Incident {
  /** Position in the seed's table, 1..34. */
  readonly n: number;
  /** The project's identifier: URLs, JSON, database, MQTT topics. Yealink/Akuvox key is `action_url.<slug>`. */
  readonly slug: string;
  /** Name as in the seed document ("Open DND"). */
  readonly name: string;
  /** Explanation as in the seed document, lightly corrected. */
  readonly description: string;
  readonly kind: IncidentKind;
  readonly keys: VendorKeys;
}

function incident(
  n: number,
  slug: string,
  name: string,
  description: string,
  kind: IncidentKind,
  keys: VendorKeys = {},
): Incident {
  const all = { yealink: `action_url.${slug}`, akuvox: `action_url.${slug}`, ...keys };
  return Object.freeze({ n, slug, name, description, kind, keys: Object.freeze(all) });
}

// Grandstream v2 aliases follow the `ons.actionUrl.<camelCase>` pattern of the documented
// `ons.actionUrl.incomingCall`; only that one is confirmed by a vendor source.
const gs = (p: string, alias: string) => ({ grandstream: p, grandstreamAlias: `ons.actionUrl.${alias}` });

export const INCIDENTS: readonly Incident[] = Object.freeze([
  incident(1, 'setup_completed', 'Setup Completed', 'Start-up completed', 'device',
    { fanvil: 'Boot Completed Url', snom: 'action_setup_url', ...gs('P8304', 'setupCompleted') }),
  incident(2, 'registered', 'Registered', 'The account registered', 'account',
    { fanvil: 'Reg On Url', snom: 'action_log_on_url', ...gs('P8305', 'registered') }),
  incident(3, 'unregistered', 'Unregistered', 'The account unregistered', 'account',
    { fanvil: 'Reg Off Url', snom: 'action_log_off_url', ...gs('P8306', 'unregistered') }),
  incident(4, 'register_failed', 'Register Failed', 'The account registration failed', 'account',
    { fanvil: 'Reg Failed Url', snom: 'action_reg_failed' }),
  incident(5, 'off_hook', 'Off Hook', 'Pick up the handset', 'hook',
    { fanvil: 'Offhook Url', snom: 'action_offhook_url', ...gs('P8308', 'offHook') }),
  incident(6, 'on_hook', 'On Hook', 'Hang up the handset', 'hook',
    { fanvil: 'Onhook Uri', snom: 'action_onhook_url', ...gs('P8309', 'onHook') }),
  incident(7, 'incoming_call', 'Incoming Call', 'New incoming call', 'call',
    { fanvil: 'Incoming Call Url', snom: 'action_incoming_url', ...gs('P8310', 'incomingCall') }),
  incident(8, 'outgoing_call', 'Outgoing Call', 'Dial an outgoing call', 'call',
    { fanvil: 'Outgoing Call Url', snom: 'action_outgoing_url', ...gs('P8311', 'outgoingCall') }),
  incident(9, 'call_established', 'Established', 'The conversation is set up', 'call',
    { fanvil: 'Call Active Url', snom: 'action_connected_url', ...gs('P8313', 'established') }),
  incident(10, 'call_terminated', 'Terminated', 'The conversation is hung up', 'call',
    { fanvil: 'Call Stop Url', snom: 'action_disconnected_url', ...gs('P8314', 'terminated') }),
  incident(11, 'dnd_on', 'Open DND', 'DND switched on', 'feature',
    { fanvil: 'DND On Url', snom: 'action_dnd_on_url', ...gs('P8316', 'dndOn') }),
  incident(12, 'dnd_off', 'Close DND', 'DND switched off', 'feature',
    { fanvil: 'DND Off Url', snom: 'action_dnd_off_url', ...gs('P8317', 'dndOff') }),
  incident(13, 'always_fwd_on', 'Open Always FWD', 'Always forward switched on', 'feature',
    { fanvil: 'Always FWD On Url', snom: 'action_redirection_on_url', ...gs('P8318', 'forwardOn') }),
  incident(14, 'always_fwd_off', 'Close Always FWD', 'Always forward switched off', 'feature',
    { fanvil: 'Always FWD Off Url', snom: 'action_redirection_off_url', ...gs('P8319', 'forwardOff') }),
  incident(15, 'busy_fwd_on', 'Open Busy FWD', 'Busy forward switched on', 'feature', { fanvil: 'Busy FWD On Url' }),
  incident(16, 'busy_fwd_off', 'Close Busy FWD', 'Busy forward switched off', 'feature', { fanvil: 'Busy FWD Off Url' }),
  incident(17, 'no_answer_fwd_on', 'Open No Answer FWD', 'No-answer forward switched on', 'feature',
    { fanvil: 'No Ans FWD On Url' }),
  incident(18, 'no_answer_fwd_off', 'Close No Answer FWD', 'No-answer forward switched off', 'feature',
    { fanvil: 'No Ans FWD Off Url' }),
  incident(19, 'transfer_call', 'Transfer Call', 'A call is being transferred', 'call',
    { fanvil: 'Transfer Url', snom: 'action_transfer' }),
  incident(20, 'blind_transfer_call', 'Blind Transfer', 'A blind transfer is made', 'call',
    { snom: 'action_blind_transfer', ...gs('P8320', 'blindTransfer') }),
  incident(21, 'attended_transfer_call', 'Attended Transfer', 'An attended (consultation) transfer is made', 'call',
    { snom: 'action_attended_transfer', ...gs('P8321', 'attendedTransfer') }),
  incident(22, 'hold', 'Hold', 'The call is put on hold', 'call',
    { fanvil: 'Hold On Url', snom: 'action_hold', ...gs('P8324', 'hold') }),
  incident(23, 'unhold', 'UnHold', 'The held call is resumed', 'call',
    { fanvil: 'Hold Off Url', snom: 'action_unhold', ...gs('P8325', 'unhold') }),
  incident(24, 'mute', 'Mute', 'Microphone muted in the conversation', 'call', { fanvil: 'Mute On Url' }),
  incident(25, 'unmute', 'UnMute', 'Microphone un-muted', 'call', { fanvil: 'Mute Off Url' }),
  incident(26, 'missed_call', 'Missed Call', 'An incoming call was missed', 'call',
    { fanvil: 'New Missed call Url', snom: 'action_missed_url', ...gs('P8312', 'missedCall') }),
  incident(27, 'ip_change', 'IP Changed', 'The phone\'s IP address changed', 'device', { fanvil: 'IP Change Url' }),
  incident(28, 'forward_incoming_call', 'FWD Incoming Call', 'An incoming call was forwarded', 'call'),
  incident(29, 'reject_incoming_call', 'Reject Incoming Call', 'An incoming call was rejected', 'call'),
  incident(30, 'answer_new_incoming_call', 'Answer New Call', 'A new incoming call was answered', 'call'),
  incident(31, 'transfer_finished', 'Transfer Finished', 'The transfer succeeded', 'call'),
  incident(32, 'transfer_failed', 'Transfer Failed', 'The transfer failed', 'call'),
  // Fanvil's PhoneState keys are the closest match; no vendor source confirms they fire identically.
  incident(33, 'idle_to_busy', 'Idle To Busy', 'The phone went from idle to busy', 'call',
    { fanvil: 'PhoneState Talking Url' }),
  incident(34, 'busy_to_idle', 'Busy To Idle', 'The phone went from busy to idle', 'call',
    { fanvil: 'PhoneState Idle Url' }),
]);

export type VariableScope = 'device' | 'account' | 'call';

export interface VariableAlias {
  /** The spelling without `$`, exactly as the vendor writes it (`call-id`). */
  readonly spelling: string;
  readonly vendors: readonly string[];
}

export interface Variable {
  /** Canonical name without `$`: the key in the API's `vars` object and in the database. */
  readonly name: string;
  readonly description: string;
  readonly scope: VariableScope;
  /** True for the seed's 12. */
  readonly seed: boolean;
  /** Other spellings phones use for the same value. */
  readonly aliases: readonly VariableAlias[];
  /**
   * Chosen by the far end of a call (its SIP user part, its display name): may hold any character,
   * including `&`, `=` and `;`, which phones do not encode. URLs put these last, see ingest-url.ts.
   */
  readonly fromCaller: boolean;
}

function variable(
  name: string,
  description: string,
  scope: VariableScope,
  seed: boolean,
  aliases: VariableAlias[] = [],
  fromCaller = false,
): Variable {
  return Object.freeze({ name, description, scope, seed, aliases: Object.freeze(aliases), fromCaller });
}

export const VARIABLES: readonly Variable[] = Object.freeze([
  variable('mac', 'MAC address of the phone', 'device', true),
  variable('ip', 'IP address of the phone', 'device', true,
    [{ spelling: 'phone_ip', vendors: ['snom', 'grandstream'] }]),
  variable('model', 'Phone model', 'device', true, [{ spelling: 'product', vendors: ['grandstream'] }]),
  variable('firmware', 'Phone firmware version', 'device', true,
    [{ spelling: 'program_version', vendors: ['grandstream'] }]),
  variable('active_url', 'The current account, as user name @ server address', 'account', true),
  variable('active_user', 'The current account\'s user name', 'account', true),
  variable('active_host', 'The current account\'s server address', 'account', true),
  variable('local', 'Local SIP URI of the call', 'call', true),
  variable('remote', 'Remote SIP URI of the call', 'call', true, [], true),
  variable('display_local', 'Local display name', 'call', true),
  variable('display_remote', 'Remote display name', 'call', true,
    [{ spelling: 'callerID', vendors: ['yealink'] }], true),
  variable('call_id', 'Call id of the active conversation (opaque, per phone)', 'call', true,
    [{ spelling: 'call-id', vendors: ['snom', 'grandstream'] }]),
  variable('called_number', 'The number that was called (the callee)', 'call', false,
    [{ spelling: 'calledNumber', vendors: ['yealink'] }]),
  variable('hardware_version', 'Hardware version of the phone', 'device', false,
    [{ spelling: 'hardware_version', vendors: ['grandstream'] }]),
  variable('duration', 'Call duration in seconds', 'call', false, [{ spelling: 'duration', vendors: ['grandstream'] }]),
  variable('call_direction', 'Call direction (incoming/outgoing)', 'call', false,
    [{ spelling: 'calldirection', vendors: ['grandstream'] }]),
]);

/** Scopes of variables that incidents of each kind fill (Yealink firmware behaviour; Akuvox descends from it). */
export const VARIABLE_SCOPES_BY_INCIDENT_KIND: Readonly<Record<IncidentKind, readonly VariableScope[]>> =
  Object.freeze({
    device: ['device'],
    account: ['device', 'account'],
    feature: ['device', 'account'],
    hook: ['device', 'account'],
    call: ['device', 'account', 'call'],
  });

/** The seed's 12 variables: what generated configs put into URLs. */
export const SEED_VARIABLES: readonly Variable[] = VARIABLES.filter((v) => v.seed);

const incidentBySlug = new Map(INCIDENTS.map((i) => [i.slug, i]));
const variableByName = new Map(VARIABLES.map((v) => [v.name, v]));

/** Every spelling a phone may use (canonical names and aliases), to its canonical name. Case-sensitive. */
export const VARIABLE_SPELLINGS: ReadonlyMap<string, string> = new Map(
  VARIABLES.flatMap((v) => [[v.name, v.name] as const, ...v.aliases.map((a) => [a.spelling, v.name] as const)]),
);

export function incidentBySlugOrUndefined(slug: string): Incident | undefined {
  return incidentBySlug.get(slug);
}

export function getIncident(slug: string): Incident {
  const found = incidentBySlug.get(slug);
  if (!found) throw new Error(`unknown incident "${slug}"`);
  return found;
}

export function isIncidentSlug(slug: string): boolean {
  return incidentBySlug.has(slug);
}

export function getVariable(name: string): Variable | undefined {
  return variableByName.get(name);
}

/** Canonical name of a variable spelling (`call-id` -> `call_id`), or undefined if unknown. */
export function canonicalVariableName(spelling: string): string | undefined {
  return VARIABLE_SPELLINGS.get(spelling);
}

/** Variables (canonical names) an incident fills. */
export function variablesFilledBy(incident: Incident | string): readonly Variable[] {
  const inc = typeof incident === 'string' ? getIncident(incident) : incident;
  const scopes = VARIABLE_SCOPES_BY_INCIDENT_KIND[inc.kind];
  return VARIABLES.filter((v) => scopes.includes(v.scope));
}

/** The seed variables an incident fills: the set a generated config puts in that incident's URL. */
export function seedVariablesFilledBy(incident: Incident | string): readonly Variable[] {
  return variablesFilledBy(incident).filter((v) => v.seed);
}
